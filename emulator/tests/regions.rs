//! Issue #8: Azure's region rules. A disk, snapshot or resource group outside Azure's
//! public regions is refused as ARM refuses it; display names are accepted; the
//! region table is readable through Subscriptions_ListLocations.

mod common;

use common::Emu;
use reqwest::Method;
use serde_json::{json, Value};

const RG: &str = "rg1";

fn empty_disk(location: &str) -> Value {
    json!({"location": location, "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 8}})
}

#[tokio::test]
async fn unknown_regions_are_refused() {
    let emu = Emu::start().await.with_disk(RG, "disk1", 64).await;
    let disk = emu.id(RG, "disks", "disk1");
    let r = emu
        .put(
            &emu.path(RG, "snapshots", "s1"),
            json!({"location": "marsnorth", "properties": {
                "creationData": {"createOption": "Copy", "sourceResourceId": disk}, "incremental": true}}),
        )
        .await;
    assert_eq!(r.refused(), (400, "LocationNotAvailableForResourceType"));
    assert_eq!(
        r.header("x-ms-error-code").as_deref(),
        Some("LocationNotAvailableForResourceType")
    );
    let prefix = "The provided location 'marsnorth' is not available for resource type \
                  'Microsoft.Compute/snapshots'. List of available regions for the resource type is '";
    assert!(r.message().starts_with(prefix), "{}", r.message());
    let list = r.message()[prefix.len()..].trim_end_matches("'.");
    for name in ["eastus", "westus", "westeurope", "eastus2", "northeurope"] {
        assert!(list.split(',').any(|n| n == name), "{name} in {list}");
    }
    let r = emu
        .put(&emu.path(RG, "disks", "d2"), empty_disk("West Mars"))
        .await;
    assert_eq!(r.refused(), (400, "LocationNotAvailableForResourceType"));
    assert!(r
        .message()
        .contains("'West Mars' is not available for resource type 'Microsoft.Compute/disks'"));
    let r = emu
        .put(&emu.group_path("rg-moon"), json!({"location": "moon"}))
        .await;
    assert_eq!(r.refused(), (400, "LocationNotAvailableForResourceGroup"));
    assert!(r
        .message()
        .starts_with("The provided location 'moon' is not available for resource group. List of available regions is 'eastus,"));
    // Nothing was created.
    assert_eq!(emu.get(&emu.path(RG, "disks", "d2")).await.status, 404);
    emu.stop().await;
}

#[tokio::test]
async fn display_names_are_regions_in_any_case() {
    let emu = Emu::start().await.with_disk(RG, "disk1", 64).await;
    for (i, location) in ["West Europe", "WESTEUROPE", "east us 2", "eastus"]
        .into_iter()
        .enumerate()
    {
        let r = emu
            .put(
                &emu.path(RG, "disks", &format!("d{i}")),
                empty_disk(location),
            )
            .await;
        assert_eq!(r.status, 200, "{location}: {:?}", r.body);
    }
    emu.stop().await;
}

#[tokio::test]
async fn list_locations_serves_the_region_table() {
    let emu = Emu::start().await;
    let sub = emu.sub();
    let r = emu
        .get(&format!(
            "/subscriptions/{sub}/locations?api-version=2022-12-01"
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let value = r.body["value"].as_array().unwrap();
    assert!(value.len() >= 50);
    let westeurope = value.iter().find(|l| l["name"] == "westeurope").unwrap();
    assert_eq!(
        westeurope["id"],
        format!("/subscriptions/{sub}/locations/westeurope")
    );
    assert_eq!(westeurope["type"], "Region");
    assert_eq!(westeurope["displayName"], "West Europe");
    assert_eq!(westeurope["regionalDisplayName"], "(Europe) West Europe");
    assert_eq!(westeurope["metadata"]["regionType"], "Physical");
    assert_eq!(
        westeurope["metadata"]["pairedRegion"][0]["name"],
        "northeurope"
    );
    for l in value {
        let name = l["name"].as_str().unwrap();
        assert_eq!(name, name.to_ascii_lowercase());
        assert!(l["displayName"].is_string() && l["regionalDisplayName"].is_string());
    }
    // Every region this repository uses anywhere is in the table.
    for used in [
        "westus",
        "westus2",
        "eastus",
        "westeurope",
        "northeurope",
        "West US",
    ] {
        let wanted = used.replace(' ', "").to_ascii_lowercase();
        assert!(value.iter().any(|l| l["name"] == wanted.as_str()), "{used}");
    }
    let r = emu
        .get(&format!(
            "/subscriptions/{sub}/locations?api-version=2099-01-01"
        ))
        .await;
    assert_eq!(r.refused(), (400, "InvalidApiVersionParameter"));
    let r = emu
        .send(
            Method::GET,
            &format!("/subscriptions/{sub}/locations?api-version=2022-12-01"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    emu.stop().await;
}

#[tokio::test]
async fn copy_reads_its_source_in_the_target_region_only() {
    let emu = Emu::start().await.with_disk(RG, "disk1", 64).await;
    let disk = emu.id(RG, "disks", "disk1");
    let inc = emu.create_snapshot(RG, "inc", &disk, true).await;
    assert_eq!(inc.status, 200, "{:?}", inc.body);
    let copy = |option: &str, source: &str, location: &str| {
        json!({"location": location, "properties": {
            "creationData": {"createOption": option, "sourceResourceId": source}, "incremental": true}})
    };
    // A Copy whose source is in another region: DiskRP does not find the source there.
    for (kind, name, source) in [
        ("snapshots", "s-east", disk.clone()),
        ("snapshots", "s-east2", emu.id(RG, "snapshots", "inc")),
        ("disks", "d-east", emu.id(RG, "snapshots", "inc")),
    ] {
        let r = emu
            .put(&emu.path(RG, kind, name), copy("Copy", &source, "eastus"))
            .await;
        let source_name = source.rsplit('/').next().unwrap();
        assert_eq!(r.refused(), (404, "NotFound"), "{name}");
        assert_eq!(r.message(), format!("Resource {source_name} is not found."));
        assert_eq!(emu.get(&emu.path(RG, kind, name)).await.status, 404);
    }
    // The same region under another spelling is the same region.
    let r = emu
        .put(
            &emu.path(RG, "snapshots", "s-west"),
            copy("Copy", &disk, "West US"),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Crossing regions is CopyStart's job.
    let r = emu
        .put(
            &emu.path(RG, "snapshots", "s-east"),
            copy("CopyStart", &emu.id(RG, "snapshots", "inc"), "eastus"),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    emu.stop().await;
}
