//! `datasnap:index:VersionExport`: read access to one version without a VM. Create grants
//! a SAS through Azure's `beginGetAccess` and records the URL as a secret with its expiry;
//! an expired or revoked grant is drift that the next `up` renews; delete revokes it
//! (`endGetAccess`). A resource, never a function: functions run at every preview, and a
//! grant is a write that must be revoked.
//!
//! Azure keeps one access state per snapshot: every grant on it shares it, and
//! `endGetAccess` ends them all. So each export marks the version with its own tag
//! (`datasnap.export.<id>` = its expiry): retention holds a version someone is reading, and
//! an export's delete revokes access only when no other export still holds it.
//!
//! - [`types`]: the inputs and recorded state;
//! - [`rules`]: Check and Diff (an expired grant is an update);
//! - [`lifecycle`]: grant, renew, revoke.

mod lifecycle;
pub mod rules;
pub mod types;

pub use types::{Inputs, Outputs, TOKEN};

use serde_json::{Map, Value as Json};

use crate::resource::{
    json_map, Change, DiffResult, Env, Failure, Resource, ResourceError, Unknowns,
};

pub struct VersionExport;

#[tonic::async_trait]
impl Resource for VersionExport {
    type Inputs = Inputs;
    type Outputs = Outputs;

    const PLAIN_IN_AZURE: &'static [&'static str] = &[
        "resourceGroupName",
        "dataset",
        "version",
        "alias",
        "durationSeconds",
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

    fn diff(
        &self,
        olds: &Outputs,
        news: &Inputs,
        unknowns: &Unknowns,
        changes: Vec<Change>,
    ) -> Result<DiffResult, ResourceError> {
        rules::diff(olds, news, unknowns, changes, rules::now())
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
