//! Managed disk operations on ARM (the restore path): get, create, update, delete, with the
//! same shapes as the snapshot operations.

use crate::azure::client::{ArmClient, Op, OpContext, API_VERSION};
use crate::azure::errors::AzureError;
use crate::azure::id::ResourceId;
use crate::azure::models::{Disk, DiskUpdate};
use crate::azure::snapshots::is_gone;
use reqwest::Method;

impl ArmClient {
    /// GET a disk; `Ok(None)` when it (or its resource group) does not exist.
    pub async fn get_disk(
        &self,
        id: &ResourceId,
        ctx: &OpContext,
    ) -> Result<Option<Disk>, AzureError> {
        let op = Op::new(format!("reading disk {}", id.name));
        match self
            .get_json(&self.url(&id.to_string(), API_VERSION), ctx, &op)
            .await
        {
            Ok(d) => Ok(Some(d)),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// PUT a disk (for example `createOption: Copy` from a snapshot) and wait until it is
    /// usable. Failures after Azure accepted the PUT are [`AzureError::AfterAccepted`].
    pub async fn create_disk(
        &self,
        id: &ResourceId,
        body: &Disk,
        ctx: &OpContext,
    ) -> Result<Disk, AzureError> {
        let op = Op::new(format!("creating disk {}", id.name));
        self.write_resource(Method::PUT, id, body, ctx, &op).await
    }

    /// PATCH a disk and return it.
    pub async fn update_disk(
        &self,
        id: &ResourceId,
        body: &DiskUpdate,
        ctx: &OpContext,
    ) -> Result<Disk, AzureError> {
        let op = Op::new(format!("updating disk {}", id.name));
        self.write_resource(Method::PATCH, id, body, ctx, &op).await
    }

    /// DELETE a disk and wait until it is gone. A disk that is already gone is success.
    pub async fn delete_disk(&self, id: &ResourceId, ctx: &OpContext) -> Result<(), AzureError> {
        let op = Op::new(format!("deleting disk {}", id.name));
        self.delete_resource(&self.resource_url(id), ctx, &op).await
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
        assert!(client.get_disk(&id(), &ctx()).await.unwrap().is_none());
        let body = Disk {
            location: "westus".into(),
            ..Default::default()
        };
        let d = client.create_disk(&id(), &body, &ctx()).await.unwrap();
        assert_eq!(d.properties.disk_size_gb, Some(64));
        let d = client
            .update_disk(
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
        client.delete_disk(&id(), &ctx()).await.unwrap();
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
