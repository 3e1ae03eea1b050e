//! ARM's tags at a resource's scope (`{id}/providers/Microsoft.Resources/tags/default`,
//! Microsoft.Resources 2021-04-01). `Merge` and `Delete` change only the keys they name,
//! so writers of different keys on one snapshot (its own stack resource, an alias or keep
//! marker written elsewhere) never erase each other's, which a PATCH of the resource's
//! whole `tags` map would.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::azure::client::{decode, encode, ArmClient, OpContext};
use crate::azure::context::Op;
use crate::azure::errors::AzureError;
use crate::azure::id::ResourceId;

/// The Microsoft.Resources api-version of the tags operations.
pub const TAGS_API_VERSION: &str = "2021-04-01";

#[derive(Serialize)]
struct TagsPatch<'a> {
    operation: &'a str,
    properties: TagsProperties,
}

#[derive(Serialize, Deserialize, Default)]
struct TagsProperties {
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct TagsResource {
    #[serde(default)]
    properties: TagsProperties,
}

impl ArmClient {
    /// Adds or replaces `tags` on the resource, leaving every other tag as it is; returns
    /// the resource's tags after the write.
    pub async fn merge_tags(
        &self,
        id: &ResourceId,
        tags: &BTreeMap<String, String>,
        ctx: &OpContext,
    ) -> Result<BTreeMap<String, String>, AzureError> {
        self.patch_tags(id, "Merge", tags, ctx).await
    }

    /// Removes the named tags (each only while it still has the given value), leaving every
    /// other tag as it is; returns the resource's tags after the write.
    pub async fn delete_tags(
        &self,
        id: &ResourceId,
        tags: &BTreeMap<String, String>,
        ctx: &OpContext,
    ) -> Result<BTreeMap<String, String>, AzureError> {
        self.patch_tags(id, "Delete", tags, ctx).await
    }

    async fn patch_tags(
        &self,
        id: &ResourceId,
        operation: &'static str,
        tags: &BTreeMap<String, String>,
        ctx: &OpContext,
    ) -> Result<BTreeMap<String, String>, AzureError> {
        let op = Op::new(format!(
            "{} tags of {}",
            operation.to_ascii_lowercase(),
            id.name
        ));
        let url = self.url(
            &format!("{id}/providers/Microsoft.Resources/tags/default"),
            TAGS_API_VERSION,
        );
        let body = encode(
            &TagsPatch {
                operation,
                properties: TagsProperties { tags: tags.clone() },
            },
            &op.name,
        )?;
        let response = self.send(Method::PATCH, &url, Some(body), ctx, &op).await?;
        let answer: TagsResource = decode(&response, &op.name)?;
        Ok(answer.properties.tags)
    }
}
