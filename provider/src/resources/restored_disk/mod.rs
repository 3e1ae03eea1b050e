//! `datasnap:index:RestoredDisk`: a managed disk created from a version (by snapshot id,
//! or by dataset and version, `latest` included): the rollback path. The disk inherits its
//! version's security settings (network access, encryption) unless the inputs override them. Split by job:
//!
//! - [`types`]: the inputs and recorded state, the restore tags, the default name;
//! - [`rules`]: Check and Diff as pure functions (the resource's own rules);
//! - [`state`]: Azure disk <-> recorded state;
//! - [`lifecycle`]: the Azure operations.
//!
//! This file only binds them to the [`Resource`] trait.

mod lifecycle;
pub mod rules;
pub mod state;
pub mod types;

pub use types::{Inputs, Outputs, TOKEN};

use serde_json::{Map, Value as Json};

use crate::resource::{
    json_map, Change, DiffResult, Env, Failure, Resource, ResourceError, Unknowns,
};

pub struct RestoredDisk;

#[tonic::async_trait]
impl Resource for RestoredDisk {
    type Inputs = Inputs;
    type Outputs = Outputs;

    const PLAIN_IN_AZURE: &'static [&'static str] = &[
        "resourceGroupName",
        "diskName",
        "sourceSnapshotId",
        "dataset",
        "version",
        "alias",
        "sourceResourceGroupName",
        "location",
        "sku",
        "diskSizeGb",
        "tags",
        "publicNetworkAccess",
        "networkAccessPolicy",
        "diskAccessId",
        "dataAccessAuthMode",
        "encryption",
    ];

    fn check(
        &self,
        // A disk name is explicit or derived from the version it restores.
        _owner: &str,
        olds: Option<&Inputs>,
        news: Inputs,
        unknowns: &Unknowns,
    ) -> (Inputs, Vec<Failure>) {
        rules::check(olds, news, unknowns)
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
        json_map(news)
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
        _state: Option<Outputs>,
    ) -> Result<Option<(Inputs, Outputs)>, ResourceError> {
        lifecycle::read(env, id, inputs).await
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

    async fn delete(&self, env: &Env, id: &str, _olds: Outputs) -> Result<(), ResourceError> {
        lifecycle::delete(env, id).await
    }
}
