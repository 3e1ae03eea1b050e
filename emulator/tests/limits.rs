//! Issue #8: Azure's size and count limits. A disk is 1 GiB up to its SKU's maximum
//! (32,767 GiB; 65,536 GiB for UltraSSD_LRS and PremiumV2_LRS), on PUT, upsert and
//! PATCH; one disk has at most 500 incremental snapshots at a time.

mod common;

use common::Emu;
use serde_json::{json, Value};

const RG: &str = "rg1";

fn disk(sku: &str, size: u64) -> Value {
    json!({"location": "westus", "sku": {"name": sku},
           "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": size}})
}

/// `(status, code)` of a response, and its message.
fn refused(r: &common::Resp) -> ((u16, &str), &str) {
    (r.refused(), r.message())
}

#[tokio::test]
async fn disk_sizes_fit_the_sku() {
    let emu = Emu::start().await;
    emu.create_group(RG).await;
    for (sku, max) in [
        ("Standard_LRS", 32_767),
        ("StandardSSD_LRS", 32_767),
        ("Premium_LRS", 32_767),
        ("Premium_ZRS", 32_767),
        ("StandardSSD_ZRS", 32_767),
        ("UltraSSD_LRS", 65_536),
        ("PremiumV2_LRS", 65_536),
    ] {
        let name = sku.replace('_', "-").to_ascii_lowercase();
        let path = emu.path(RG, "disks", &name);
        let r = emu.put(&path, disk(sku, max + 1)).await;
        let (status, message) = refused(&r);
        assert_eq!(status, (400, "InvalidParameter"), "{sku}");
        assert_eq!(r.body["error"]["target"], "diskSizeGB");
        assert_eq!(
            message,
            format!(
                "The specified disk size {} GB for disk '{name}' is not valid for sku '{sku}'. \
                 The disk size must be between 1 GB and {max} GB.",
                max + 1
            )
        );
        let r = emu.put(&path, disk(sku, max)).await;
        assert_eq!(r.status, 200, "{sku}: {:?}", r.body);
    }
    let r = emu
        .put(&emu.path(RG, "disks", "zero"), disk("Standard_LRS", 0))
        .await;
    assert_eq!(refused(&r).0, (400, "InvalidParameter"));
    assert!(refused(&r).1.contains("between 1 GB and 32767 GB"));
    emu.stop().await;
}

#[tokio::test]
async fn growing_past_the_maximum_is_refused_on_patch_and_upsert() {
    let emu = Emu::start().await;
    emu.create_group(RG).await;
    let path = emu.path(RG, "disks", "d1");
    assert_eq!(
        emu.put(&path, disk("PremiumV2_LRS", 40_000)).await.status,
        200
    );
    // Moving a 40,000 GiB disk to a SKU whose maximum is 32,767 GiB.
    let r = emu
        .patch(&path, json!({"sku": {"name": "Premium_LRS"}}))
        .await;
    assert_eq!(refused(&r).0, (400, "InvalidParameter"));
    let r = emu.put(&path, disk("Premium_LRS", 40_000)).await;
    assert_eq!(refused(&r).0, (400, "InvalidParameter"));
    let r = emu
        .patch(&path, json!({"properties": {"diskSizeGB": 65_537}}))
        .await;
    assert_eq!(refused(&r).0, (400, "InvalidParameter"));
    assert!(refused(&r).1.contains("between 1 GB and 65536 GB"));
    // Nothing changed.
    let body = emu.get(&path).await.body;
    assert_eq!(body["sku"]["name"], "PremiumV2_LRS");
    assert_eq!(body["properties"]["diskSizeGB"], 40_000);
    let r = emu
        .patch(&path, json!({"properties": {"diskSizeGB": 65_536}}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    emu.stop().await;
}

#[tokio::test]
async fn at_most_500_incremental_snapshots_per_disk() {
    let emu = Emu::start().await.with_disk(RG, "disk1", 8).await;
    let disk = emu.id(RG, "disks", "disk1");
    for i in 0..500 {
        // Age every snapshot so that the 7-per-5-minutes rule does not interfere.
        if i % 7 == 0 {
            for r in emu.state.world().resources.values_mut() {
                r.created_ms = r.created_ms.saturating_sub(10 * 60 * 1000);
            }
        }
        let r = emu.create_snapshot(RG, &format!("s{i}"), &disk, true).await;
        assert_eq!(r.status, 200, "{i}: {:?}", r.body);
    }
    for r in emu.state.world().resources.values_mut() {
        r.created_ms = r.created_ms.saturating_sub(10 * 60 * 1000);
    }
    let r = emu.create_snapshot(RG, "s500", &disk, true).await;
    let (status, message) = refused(&r);
    assert_eq!(status, (409, "OperationNotAllowed"));
    assert!(message.contains("500 incremental snapshots"), "{message}");
    // A full snapshot is not counted; deleting an old incremental one makes room.
    assert_eq!(
        emu.create_snapshot(RG, "full", &disk, false).await.status,
        200
    );
    let r = emu.delete(&emu.path(RG, "snapshots", "s0")).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(
        emu.create_snapshot(RG, "s500", &disk, true).await.status,
        200
    );
    emu.stop().await;
}
