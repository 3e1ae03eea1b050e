//! Azure: the only code in the provider that speaks HTTP.
//!
//! - [`id`]: ARM ids (pure).
//! - [`client`]: the ARM client: one pipeline (request id, user agent, api-version, retry,
//!   bearer token, logging, transport), the per-operation deadline and cancel token.
//! - [`auth`]: the configured credential (azure_identity) and its token cache.
//! - [`retry`]: the retry policy as data: what is retried and how long to wait.
//! - [`lro`]: the long-running-operation poller.
//! - [`snapshots`], [`disks`]: the Microsoft.Compute operations.
//! - [`models`]: serde models of DiskRP bodies.
//! - [`settings`]: what the client is built from (cloud, endpoints, credential).
//! - [`errors`]: [`AzureError`], with Azure's status and code.

pub mod auth;
pub mod client;
pub mod disks;
pub mod errors;
pub mod id;
pub mod lro;
pub mod models;
pub mod retry;
pub mod settings;
pub mod snapshots;
#[cfg(test)]
pub(crate) mod testing;

pub use client::{
    ArmClient, CancelToken, ClientOptions, HttpRequest, HttpResponse, HttpTransport, OpContext,
    ProgressSink, TransportError, API_VERSION,
};
pub use errors::AzureError;
pub use lro::{FinalState, OperationStatus};
pub use retry::RetryPolicy;
