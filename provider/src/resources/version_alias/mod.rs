//! `datasnap:index:VersionAlias`: a named, movable pointer (`production`, `staging`) to one
//! version of a dataset, stored as a tag on the version's snapshot (see
//! [`crate::catalog::aliases`]). Moving it is an in-place update; a protected alias places a
//! `CanNotDelete` lock on its version and cannot move or be deleted until `protected: false`.
//!
//! - [`types`]: the inputs, the recorded state, the alias's id;
//! - [`rules`]: Check and Diff as pure functions;
//! - [`lifecycle`]: the Azure operations (tag writes, locks, settling a race).
//!
//! This file only binds them to the [`Resource`] trait.

mod lifecycle;
pub mod rules;
pub mod types;

pub use types::{Inputs, Outputs, TOKEN};

use serde_json::{Map, Value as Json};

use crate::resource::{
    json_map, Change, DiffResult, Env, Failure, Resource, ResourceError, Unknowns,
};

pub struct VersionAlias;

#[tonic::async_trait]
impl Resource for VersionAlias {
    type Inputs = Inputs;
    type Outputs = Outputs;

    const PLAIN_IN_AZURE: &'static [&'static str] = &[
        "resourceGroupName",
        "dataset",
        "alias",
        "version",
        "protected",
    ];

    fn check(
        &self,
        _owner: &str,
        _olds: Option<&Inputs>,
        news: Inputs,
        unknowns: &Unknowns,
    ) -> (Inputs, Vec<Failure>) {
        rules::check(news, unknowns)
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
