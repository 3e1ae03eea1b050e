//! `datasnap:index:VersionedSnapshot`: one Azure snapshot = one version of one dataset.
//!
//! The semantics are DESIGN.md's: a version is immutable, identity and lineage live in
//! tags, replacement is create-before-delete, and `deletionPolicy` decides whether Delete
//! removes the snapshot or releases it as a retained version. Split by job:
//!
//! - [`types`]: the inputs and recorded state, and what they say (name, tags);
//! - [`rules`]: Check, Diff and preview as pure functions (the resource's own rules; the
//!   schema's are the adapter's);
//! - [`state`]: Azure snapshot <-> recorded state;
//! - [`ownership`]: who holds a snapshot (claims, adoption, takeover);
//! - [`lifecycle`]: the Azure operations.
//!
//! This file only binds them to the [`Resource`] trait.

mod lifecycle;
pub mod ownership;
pub mod rules;
pub mod state;
pub mod types;

pub use types::{Inputs, Outputs, DELETE, RETAIN, TOKEN};

use serde_json::{Map, Value as Json};

use crate::resource::{Change, DiffResult, Env, Failure, Resource, ResourceError, Unknowns};

/// The resource controller.
pub struct VersionedSnapshot;

#[tonic::async_trait]
impl Resource for VersionedSnapshot {
    type Inputs = Inputs;
    type Outputs = Outputs;

    const PLAIN_IN_AZURE: &'static [&'static str] = &[
        "resourceGroupName",
        "dataset",
        "version",
        "sourceDiskId",
        "sourceSnapshotId",
        "location",
        "snapshotName",
        "incremental",
        "sku",
        "tags",
        "metadata",
        "deletionPolicy",
        "retention",
        "publicNetworkAccess",
        "networkAccessPolicy",
        "diskAccessId",
        "dataAccessAuthMode",
        "encryption",
        "lock",
    ];

    fn check(
        &self,
        owner: &str,
        olds: Option<&Inputs>,
        news: Inputs,
        unknowns: &Unknowns,
    ) -> (Inputs, Vec<Failure>) {
        rules::check(owner, olds, news, unknowns)
    }

    fn same(&self, property: &str, olds: &Outputs, news: &Inputs) -> Option<bool> {
        rules::same(property, olds, news)
    }

    fn diff(
        &self,
        olds: &Outputs,
        news: &Inputs,
        unknowns: &Unknowns,
        changes: Vec<Change>,
    ) -> Result<DiffResult, ResourceError> {
        rules::diff(olds, news, unknowns, changes)
    }

    fn preview(
        &self,
        news: &Inputs,
        _unknowns: &Unknowns,
    ) -> Result<Map<String, Json>, ResourceError> {
        rules::preview(news)
    }

    async fn plan_create(
        &self,
        env: &Env,
        news: &Inputs,
        unknowns: &Unknowns,
    ) -> Result<Map<String, Json>, ResourceError> {
        lifecycle::plan_create(env, news, unknowns).await
    }

    async fn create(&self, env: &Env, inputs: Inputs) -> Result<(String, Outputs), ResourceError> {
        lifecycle::create(env, inputs).await
    }

    async fn read(
        &self,
        env: &Env,
        id: &str,
        inputs: Option<Inputs>,
        state: Option<Outputs>,
    ) -> Result<Option<(Inputs, Outputs)>, ResourceError> {
        lifecycle::read(env, id, inputs, state).await
    }

    async fn update(
        &self,
        env: &Env,
        id: &str,
        olds: Outputs,
        news: Inputs,
    ) -> Result<Outputs, ResourceError> {
        lifecycle::update(env, id, olds, news).await
    }

    async fn delete(&self, env: &Env, id: &str, olds: Outputs) -> Result<(), ResourceError> {
        lifecycle::delete(env, id, olds).await
    }
}
