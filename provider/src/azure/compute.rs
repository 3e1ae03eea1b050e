//! What every Microsoft.Compute resource (disk, snapshot) shares on ARM: get, create
//! (PUT and its long-running operation), update (PATCH) and delete, generic over the
//! resource's model. A type's own steps (a snapshot's copy wait, listing) live beside it
//! (`snapshots.rs`).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::azure::client::{ArmClient, Op, OpContext, API_VERSION};
use crate::azure::errors::AzureError;
use crate::azure::id::ResourceId;
use crate::azure::lro::FinalState;
use crate::azure::models::{Disk, DiskUpdate, Snapshot, SnapshotUpdate};
use reqwest::Method;

/// 404 codes that mean "this resource does not exist" (anything else, such as
/// `SubscriptionNotFound`, is a configuration error and stays an error).
pub(crate) fn is_gone(e: &AzureError) -> bool {
    e.is_not_found()
        && e.code().is_some_and(|c| {
            ["ResourceNotFound", "ResourceGroupNotFound", "NotFound"]
                .iter()
                .any(|k| c.eq_ignore_ascii_case(k))
        })
}

/// A PATCH body, and the resource the PATCH answers with.
pub trait Patch: Serialize + Sync {
    type Resource: DeserializeOwned;
}

impl Patch for SnapshotUpdate {
    type Resource = Snapshot;
}

impl Patch for DiskUpdate {
    type Resource = Disk;
}

/// What a call does to which resource, for messages: "reading snapshot data-v1".
fn op(verb: &str, id: &ResourceId) -> Op {
    Op::new(format!("{verb} {} {}", id.kind.noun(), id.name))
}

impl ArmClient {
    /// GET a resource; `Ok(None)` when it (or its resource group) does not exist.
    pub async fn get<T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        ctx: &OpContext,
    ) -> Result<Option<T>, AzureError> {
        let op = op("reading", id);
        match self.get_json(&self.resource_url(id), ctx, &op).await {
            Ok(r) => Ok(Some(r)),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// PUT a resource and wait until it is usable (callers GET first: PUT is an upsert).
    /// Failures after Azure accepted the PUT are [`AzureError::AfterAccepted`].
    pub async fn create<T: Serialize + DeserializeOwned + Sync>(
        &self,
        id: &ResourceId,
        body: &T,
        ctx: &OpContext,
    ) -> Result<T, AzureError> {
        let op = op("creating", id);
        self.write_resource(Method::PUT, id, body, ctx, &op).await
    }

    /// PATCH a resource (a `tags` map replaces the old one) and return it.
    pub async fn update<B: Patch>(
        &self,
        id: &ResourceId,
        body: &B,
        ctx: &OpContext,
    ) -> Result<B::Resource, AzureError> {
        let op = op("updating", id);
        self.write_resource(Method::PATCH, id, body, ctx, &op).await
    }

    /// DELETE a resource and wait until it is gone. One already gone is success.
    pub async fn delete(&self, id: &ResourceId, ctx: &OpContext) -> Result<(), AzureError> {
        let op = op("deleting", id);
        let url = self.resource_url(id);
        let initial = match self.send(Method::DELETE, &url, None, ctx, &op).await {
            Err(e) if is_gone(&e) => return Ok(()),
            other => other?,
        };
        if initial.status == 204 {
            return Ok(());
        }
        self.poll_lro(
            initial,
            Method::DELETE,
            &url,
            FinalState::None,
            API_VERSION,
            ctx,
            &op,
        )
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::client::{CancelToken, ClientOptions, HttpResponse};
    use crate::azure::id::ResourceKind;
    use crate::azure::testing::client_with;
    use serde_json::json;
    use std::time::Duration;

    const PATH: &str =
        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/disks/restored";

    fn id() -> ResourceId {
        ResourceId::new("sub", "rg", ResourceKind::Disk, "restored")
    }

    fn ctx() -> OpContext {
        OpContext::new(Duration::from_secs(600), CancelToken::new())
    }

    #[tokio::test(start_paused = true)]
    async fn disk_lifecycle() {
        let disk = |state: &str| {
            HttpResponse::new(200).with_json(&json!({"id": PATH, "name": "restored", "location": "westus",
                "sku": {"name": "Premium_LRS"},
                "properties": {"provisioningState": state, "diskSizeGB": 64, "creationData": {"createOption": "Copy"}}}))
        };
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![
                HttpResponse::new(404)
                    .with_json(&json!({"error": {"code": "ResourceNotFound", "message": "no"}})),
                disk("Updating"),
                disk("Succeeded"),
                disk("Succeeded"),
                HttpResponse::new(202).with_header("Location", "http://arm.test/op"),
                HttpResponse::new(200),
            ],
        );
        assert!(client.get::<Disk>(&id(), &ctx()).await.unwrap().is_none());
        let body = Disk {
            location: "westus".into(),
            ..Default::default()
        };
        let d = client.create(&id(), &body, &ctx()).await.unwrap();
        assert_eq!(d.properties.disk_size_gb, Some(64));
        let d = client
            .update(
                &id(),
                &DiskUpdate {
                    tags: Some(Default::default()),
                    ..Default::default()
                },
                &ctx(),
            )
            .await
            .unwrap();
        assert_eq!(d.sku.unwrap().name.as_deref(), Some("Premium_LRS"));
        client.delete(&id(), &ctx()).await.unwrap();
        assert_eq!(
            t.lines(),
            [
                format!("GET {PATH}"),
                format!("PUT {PATH}"),
                format!("GET {PATH}"),
                format!("PATCH {PATH}"),
                format!("DELETE {PATH}"),
                "GET /op".to_string(),
            ]
        );
    }
}
