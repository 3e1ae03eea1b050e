//! `getVersions` and `getVersion`: argument checks and results over the catalog, which
//! lists, orders and finds a dataset's versions.

use serde::{Deserialize, Serialize};

use super::Function;
use crate::catalog::{self, DatasetVersion};
use crate::resource::{Env, Failure, ResourceError};
use crate::resources::naming::{check_alias, check_dataset, check_resource_group};

pub const GET_VERSIONS: &str = "datasnap:index:getVersions";
pub const GET_VERSION: &str = "datasnap:index:getVersion";

fn check_location(rg: &str, dataset: &str) -> Vec<Failure> {
    let mut f = Vec::new();
    if let Err(e) = check_resource_group(rg) {
        f.push(Failure::new("resourceGroupName", e));
    }
    if let Err(e) = check_dataset(dataset) {
        f.push(Failure::new("dataset", e));
    }
    f
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVersionsArgs {
    pub resource_group_name: String,
    pub dataset: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVersionsResult {
    pub resource_group_name: String,
    pub dataset: String,
    pub versions: Vec<DatasetVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
}

pub struct GetVersions;

#[tonic::async_trait]
impl Function for GetVersions {
    type Args = GetVersionsArgs;
    type Result = GetVersionsResult;

    fn check(&self, a: &GetVersionsArgs) -> Vec<Failure> {
        check_location(&a.resource_group_name, &a.dataset)
    }

    async fn invoke(
        &self,
        env: &Env,
        a: GetVersionsArgs,
    ) -> Result<GetVersionsResult, ResourceError> {
        let versions = catalog::list(env, env.arm()?, &a.resource_group_name, &a.dataset).await?;
        Ok(GetVersionsResult {
            latest: catalog::latest(&versions).map(|v| v.version.clone()),
            resource_group_name: a.resource_group_name,
            dataset: a.dataset,
            versions,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVersionArgs {
    pub resource_group_name: String,
    pub dataset: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub alias: Option<String>,
}

pub struct GetVersion;

#[tonic::async_trait]
impl Function for GetVersion {
    type Args = GetVersionArgs;
    type Result = DatasetVersion;

    fn check(&self, a: &GetVersionArgs) -> Vec<Failure> {
        let mut f = check_location(&a.resource_group_name, &a.dataset);
        let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
        match (set(&a.version), set(&a.alias)) {
            (true, true) => f.push(Failure::new(
                "alias",
                "set either version or alias, not both",
            )),
            (false, false) => f.push(Failure::new(
                "version",
                "is required (or alias): a version such as \"1\", \"latest\", or alias: \"production\"",
            )),
            _ => {}
        }
        if let Some(Err(e)) = a
            .alias
            .as_deref()
            .filter(|a| !a.is_empty())
            .map(check_alias)
        {
            f.push(Failure::new("alias", e));
        }
        f
    }

    async fn invoke(&self, env: &Env, a: GetVersionArgs) -> Result<DatasetVersion, ResourceError> {
        let versions = catalog::list(env, env.arm()?, &a.resource_group_name, &a.dataset).await?;
        catalog::resolve(
            &versions,
            &a.dataset,
            &a.resource_group_name,
            a.version.as_deref(),
            a.alias.as_deref(),
        )
        .cloned()
    }
}
