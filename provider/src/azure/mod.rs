//! Azure: the only code in the provider that speaks HTTP.
//!
//! - [`id`]: ARM ids (pure).
//! - [`context`]: the per-operation context: one deadline, the cancel token, progress.
//! - [`client`]: the ARM client: endpoint, subscription, URL building, and `send` through
//!   the pipeline.
//! - [`pipeline`]: the ordered policies every request goes through (request headers, retry,
//!   bearer token, logging, deadline and cancel, transport), one file each.
//! - [`auth`]: the configured credential (azure_identity) and its token cache.
//! - [`certificate`]: client certificate credentials (PEM or PKCS#12): signed assertions.
//! - [`retry`]: the retry policy as data: what is retried and how long to wait.
//! - [`poll`]: the one polling primitive behind every long-running wait.
//! - [`lro`]: the long-running-operation poller (ARM's headers), on [`poll`], and the
//!   generic write (PUT/PATCH, follow, decode) the typed operations share.
//! - [`compute`]: get, create, update, delete of any Microsoft.Compute resource.
//! - [`snapshots`]: a snapshot's own steps: the copy wait, readiness, listing.
//! - [`subscription`]: the subscription's regions (Subscriptions_ListLocations).
//! - [`tags`]: ARM's tags at a resource's scope (Merge, Delete): writes of named keys only.
//! - [`locks`]: ARM management locks at a resource's scope (the `CanNotDelete` locks that
//!   protect versions), and access grants (`beginGetAccess`/`endGetAccess`) are in [`snapshots`].
//! - [`models`]: serde models of DiskRP bodies.
//! - [`settings`]: what the client is built from (cloud, endpoints, credential).
//! - [`errors`]: [`AzureError`], with Azure's status and code.

pub mod auth;
pub(crate) mod certificate;
pub mod client;
pub mod compute;
pub mod context;
pub mod errors;
pub mod id;
pub mod locks;
pub mod lro;
pub mod models;
pub(crate) mod pipeline;
pub(crate) mod poll;
pub mod retry;
pub mod settings;
pub mod snapshots;
pub mod subscription;
pub mod tags;
#[cfg(test)]
pub(crate) mod testing;

pub use client::{
    ArmClient, CancelToken, ClientConfig, ClientOptions, HttpRequest, HttpResponse, HttpTransport,
    OpContext, ProgressSink, TransportError, API_VERSION,
};
pub use errors::AzureError;
pub use lro::{FinalState, OperationStatus};
pub use retry::RetryPolicy;
