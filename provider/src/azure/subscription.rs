//! The subscription's own reads: the regions it may use (Subscriptions_ListLocations,
//! `GET /subscriptions/{s}/locations`), which teach Check the regions Azure added after
//! datasnap's table was written, and whether a resource group exists (ResourceGroups_Get),
//! for the preview's checks.

use serde::Deserialize;

use crate::azure::client::{ArmClient, OpContext};
use crate::azure::context::Op;
use crate::azure::errors::AzureError;

/// The Microsoft.Resources (subscriptions) api-version of the locations list.
pub const LOCATIONS_API_VERSION: &str = "2022-12-01";
/// The Microsoft.Resources api-version of resource groups.
pub const RESOURCE_GROUPS_API_VERSION: &str = "2021-04-01";

#[derive(Deserialize)]
struct ResourceGroup {
    location: String,
}

#[derive(Deserialize)]
struct LocationList {
    #[serde(default)]
    value: Vec<Location>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    name: String,
    #[serde(default)]
    display_name: Option<String>,
}

impl ArmClient {
    /// The subscription's regions as (ARM name, display name).
    pub async fn list_locations(
        &self,
        ctx: &OpContext,
    ) -> Result<Vec<(String, String)>, AzureError> {
        let op = Op::new("listing the subscription's regions");
        let url = self.url(
            &format!("/subscriptions/{}/locations", self.subscription_id()),
            LOCATIONS_API_VERSION,
        );
        let list: LocationList = self.get_json(&url, ctx, &op).await?;
        Ok(list
            .value
            .into_iter()
            .map(|l| {
                let display = l.display_name.unwrap_or_else(|| l.name.clone());
                (l.name, display)
            })
            .collect())
    }

    /// The region of resource group `name`; `Ok(None)` when it does not exist. A missing
    /// or unreachable subscription is an error (`SubscriptionNotFound`, 403), not `None`.
    pub async fn resource_group_location(
        &self,
        name: &str,
        ctx: &OpContext,
    ) -> Result<Option<String>, AzureError> {
        let op = Op::new(format!("reading resource group {name}"));
        let url = self.url(
            &format!(
                "/subscriptions/{}/resourcegroups/{name}",
                self.subscription_id()
            ),
            RESOURCE_GROUPS_API_VERSION,
        );
        match self.get_json::<ResourceGroup>(&url, ctx, &op).await {
            Ok(g) => Ok(Some(g.location)),
            Err(e) if e.is_not_found() && e.code() == Some("ResourceGroupNotFound") => Ok(None),
            Err(e) => Err(e),
        }
    }
}
