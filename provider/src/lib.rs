//! datasnap: a Pulumi resource provider that turns Azure Managed Disk snapshots into
//! versioned datasets.
//!
//! Data flows one way (docs/architecture.md draws it):
//!
//! ```text
//! engine -> server (gRPC, protobuf) -> value (Struct <-> JSON, secret and unknown marks aside)
//!        -> adapter (schema.json's rules) -> resources/* (each resource's own rules)
//!        -> catalog (a dataset's versions) / azure (the only code that speaks HTTP) -> ARM
//! ```
//!
//! - [`server`]: the `ResourceProvider` gRPC service; decode, dispatch by token, encode.
//! - [`value`]: protobuf `Struct` <-> property values with secret and unknown marks.
//! - [`schema`]: the embedded package schema, the one home of every property fact.
//! - [`adapter`]: the one generic adapter: the schema's rules, then the resource's.
//! - [`resource`]: the `Resource` trait: what a resource implements, and its vocabulary.
//! - [`resources`]: `VersionedSnapshot` and `RestoredDisk`, each split by job.
//! - [`catalog`]: a dataset's versions: listing, tags, order, `latest`, retention.
//! - [`functions`]: `getVersions` and `getVersion`, thin over the catalog.
//! - [`config`]: CheckConfig/DiffConfig/Configure, environment fallbacks, the Azure client.
//! - [`azure`]: the ARM client as policies, one poller, operations, models, errors.
//! - [`proto`]: the generated protocol types.

pub mod adapter;
pub mod azure;
pub mod catalog;
pub mod config;
pub mod functions;
pub mod proto;
pub mod resource;
pub mod resources;
pub mod schema;
pub mod server;
pub mod value;
