//! The Pulumi protocol types, behind one module so the generated code can be swapped.
//!
//! We use the pre-generated `pulumirpc` bindings of the `pulumi_gestalt_proto` crate
//! (tonic/prost 0.14). Only `server.rs` and `value.rs` import from here.

pub use prost_types::{value::Kind, ListValue, Struct, Value};
pub use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
pub use rpc::engine_client::EngineClient;
pub use rpc::resource_provider_server::{ResourceProvider, ResourceProviderServer};

/// The engine accepts messages up to 400 MiB; tonic's default is 4 MiB.
pub const MAX_MESSAGE_BYTES: usize = 400 * 1024 * 1024;
