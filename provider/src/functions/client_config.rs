//! `getClientConfig`: who the provider is in Azure, as azure-native's function of the same
//! name answers it, so programs build ARM ids (and role assignments) without repeating the
//! subscription or tenant.

use serde::{Deserialize, Serialize};

use super::Function;
use crate::resource::{Env, Failure, ResourceError};

pub const GET_CLIENT_CONFIG: &str = "datasnap:index:getClientConfig";

/// No arguments.
#[derive(Debug, Default, Deserialize)]
pub struct GetClientConfigArgs {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetClientConfigResult {
    pub subscription_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
}

pub struct GetClientConfig;

#[tonic::async_trait]
impl Function for GetClientConfig {
    type Args = GetClientConfigArgs;
    type Result = GetClientConfigResult;

    fn check(&self, _: &GetClientConfigArgs) -> Vec<Failure> {
        Vec::new()
    }

    async fn invoke(
        &self,
        env: &Env,
        _: GetClientConfigArgs,
    ) -> Result<GetClientConfigResult, ResourceError> {
        let c = env.arm()?.client_config(&env.op()).await?;
        Ok(GetClientConfigResult {
            subscription_id: c.subscription_id,
            tenant_id: c.tenant_id,
            client_id: c.client_id,
            object_id: c.object_id,
        })
    }
}
