//! datasnap: a Pulumi resource provider that turns Azure Managed Disk snapshots into
//! versioned datasets.
//!
//! Data flows one way (see DESIGN.md):
//!
//! ```text
//! engine -> server (gRPC, protobuf) -> value (Struct <-> typed serde values, secrets, unknowns)
//!        -> resource (generic adapter) -> resources/* (the rules, plain Rust)
//!        -> azure (the only code that speaks HTTP) -> Azure Resource Manager
//! ```
//!
//! - [`server`]: the `ResourceProvider` gRPC service; decode, dispatch by token, encode.
//! - [`value`]: protobuf `Struct` <-> property values with secret and unknown marks.
//! - [`resource`]: the `Resource` trait: what a resource implements.
//! - [`adapter`]: the one generic adapter: the schema's rules, then the resource's.
//! - [`resources`]: `VersionedSnapshot` and its rules.
//! - [`catalog`]: a dataset's versions: listing, tags, order, latest, retention selection and pruning.
//! - [`functions`]: `getVersions` and `getVersion`.
//! - [`config`]: provider configuration and its environment fallbacks.
//! - [`azure`]: authentication, the ARM client, long-running operations, models.
//! - [`schema`]: the embedded package schema.

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
