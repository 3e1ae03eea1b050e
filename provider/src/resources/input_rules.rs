//! Issue 8's input rules, as the engine meets them: at Check, one row per bad input through
//! the adapter (the schema's rules, then the resource's), each naming its property, and a
//! secret value never in any reason; at Create, the one rule only Azure's answer decides (a
//! snapshot in another region than its source disk), refused before any write.

use serde_json::{json, Value as Json};

use crate::adapter::{Adapter, DynResource};
use crate::resource::{Failure, Resource};
use crate::resources::restored_disk::{self as rd, RestoredDisk};
use crate::resources::versioned_snapshot::{self as vs, VersionedSnapshot};
use crate::value::Props;

const DISK: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/disks/data";
const SNAP: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/snapshots/data-v1";

#[derive(Clone, Copy, Debug)]
enum Res {
    Vs,
    Rd,
}

impl Res {
    fn adapter(self) -> Box<dyn DynResource> {
        match self {
            Res::Vs => Box::new(Adapter::new(
                VersionedSnapshot,
                crate::schema::resource(vs::TOKEN),
            )),
            Res::Rd => Box::new(Adapter::new(
                RestoredDisk,
                crate::schema::resource(rd::TOKEN),
            )),
        }
    }

    fn good(self) -> Json {
        match self {
            Res::Vs => {
                json!({"resourceGroupName": "rg", "dataset": "imagenet", "version": "1", "sourceDiskId": DISK})
            }
            Res::Rd => json!({"resourceGroupName": "rg", "dataset": "imagenet", "version": "1"}),
        }
    }

    fn plain_in_azure(self) -> &'static [&'static str] {
        match self {
            Res::Vs => VersionedSnapshot::PLAIN_IN_AZURE,
            Res::Rd => RestoredDisk::PLAIN_IN_AZURE,
        }
    }
}

/// The good inputs with `patch`'s properties set (`null` removes one).
fn with(res: Res, patch: &Json) -> Json {
    let mut v = res.good();
    for (k, x) in patch.as_object().unwrap() {
        match x {
            Json::Null => v.as_object_mut().unwrap().remove(k),
            _ => v.as_object_mut().unwrap().insert(k.clone(), x.clone()),
        };
    }
    v
}

fn check(res: Res, olds: &Json, news: &Json, secrets: &[&str]) -> (Props, Vec<Failure>) {
    let mut n = Props::new(news.as_object().unwrap().clone());
    n.secrets = secrets.iter().map(|s| s.to_string()).collect();
    let o = Props::new(olds.as_object().cloned().unwrap_or_default());
    let c = res.adapter().check(
        "urn:pulumi:dev::p::datasnap:index:VersionedSnapshot::r",
        &o,
        &n,
    );
    (c.inputs, c.failures)
}

#[test]
fn each_bad_input_fails_check_naming_its_property() {
    use Res::*;
    // (resource, inputs set, the property named, words the reason holds)
    #[rustfmt::skip]
    let rows: &[(Res, Json, &str, &[&str])] = &[
        (Vs, json!({"retention": {"keepLast": -1}}), "retention.keepLast", &["must be from 1 to 500", "it is -1"]),
        (Vs, json!({"retention": {"keepLast": 0}}), "retention.keepLast", &["must be from 1 to 500"]),
        (Vs, json!({"retention": {"keepLast": 501}}), "retention.keepLast", &["must be from 1 to 500", "it is 501"]),
        (Vs, json!({"retention": {"keepLast": 4_294_967_296_u64}}), "retention.keepLast", &["must be from 1 to 500"]),
        (Vs, json!({"retention": {"keepLast": u64::MAX}}), "retention.keepLast", &["whole number"]),
        (Vs, json!({"retention": {"maxAgeDays": 0}}), "retention.maxAgeDays", &["must be from 1 to 36500"]),
        (Vs, json!({"retention": {"maxAgeDays": 36_501}}), "retention.maxAgeDays", &["must be from 1 to 36500", "it is 36501"]),
        (Rd, json!({"diskSizeGb": 0}), "diskSizeGb", &["must be from 1 to 65536"]),
        (Rd, json!({"diskSizeGb": 65_537}), "diskSizeGb", &["must be from 1 to 65536", "it is 65537"]),
        (Rd, json!({"diskSizeGb": 32_768, "sku": "Premium_LRS"}), "diskSizeGb", &["must be from 1 to 32767", "\"Premium_LRS\""]),
        (Rd, json!({"diskSizeGb": 32_768, "sku": "StandardSSD_ZRS"}), "diskSizeGb", &["must be from 1 to 32767"]),
        (Rd, json!({"diskSizeGb": 65_537, "sku": "PremiumV2_LRS"}), "diskSizeGb", &["must be from 1 to 65536"]),
        (Vs, json!({"tags": {"Env": "a", "env": "b"}}), "tags.env", &["\"env\" and \"Env\" differ only in case"]),
        (Vs, json!({"metadata": {"Git": "a", "git": "b"}}), "metadata.git", &["\"datasnap.meta.Git\""]),
        (Rd, json!({"tags": {"Team": "a", "TEAM": "b"}}), "tags.Team", &["differ only in case"]),
        (Vs, json!({"tags": {"datasnap.x": "v"}}), "tags[\"datasnap.x\"]", &["tag name \"datasnap.x\" starts with \"datasnap.\""]),
        (Rd, json!({"tags": {"Datasnap.Mine": "v"}}), "tags[\"Datasnap.Mine\"]", &["\"Datasnap.Mine\""]),
        (Vs, json!({"tags": {"a\"b/c": "v"}}), "tags[\"a\\\"b/c\"]", &["\"a\\\"b/c\" contains '/'"]),
        (Vs, json!({"version": "Latest"}), "version", &["\"Latest\" is reserved"]),
        (Vs, json!({"dataset": "é".repeat(70)}), "dataset", &["(it has 70 characters)"]),
        (Vs, json!({"location": "marsnorth"}), "location", &["\"marsnorth\" is not an Azure region"]),
        (Vs, json!({"location": "westeurop"}), "location", &["did you mean \"westeurope\""]),
        (Rd, json!({"location": "West Mars"}), "location", &["\"West Mars\" is not an Azure region"]),
    ];
    for (res, patch, property, words) in rows {
        let (_, f) = check(*res, &json!({}), &with(*res, patch), &[]);
        let at: Vec<&Failure> = f.iter().filter(|f| f.property == *property).collect();
        assert_eq!(
            at.len(),
            1,
            "{res:?} {patch}: want one failure at {property}, got {f:?}"
        );
        for w in *words {
            assert!(
                at[0].reason.contains(w),
                "{res:?} {patch}: {w:?} not in {:?}",
                at[0].reason
            );
        }
    }
}

/// Every input datasnap stores in Azure (all of them: names, ids, regions, tags and
/// properties are plain text there) is refused when secret, and the value never printed.
#[test]
fn a_secret_where_azure_stores_plain_text_is_refused_without_its_value() {
    for res in [Res::Vs, Res::Rd] {
        let schema = res.adapter().schema();
        let mut inputs: Vec<&str> = schema.properties.keys().map(String::as_str).collect();
        inputs.sort();
        let mut plain = res.plain_in_azure().to_vec();
        plain.sort();
        assert_eq!(plain, inputs, "{res:?}: every input is stored in Azure");
        let values = json!({
            "resourceGroupName": "rg-s3cret", "dataset": "ds-s3cret", "version": "9-s3cret",
            "sourceDiskId": DISK, "sourceSnapshotId": SNAP, "location": "westus2",
            "snapshotName": "snap-s3cret", "diskName": "disk-s3cret", "incremental": false,
            "sku": "Standard_ZRS", "tags": {"k": "tag-s3cret"}, "metadata": {"m": "meta-s3cret"},
            "deletionPolicy": "Delete", "retention": {"keepLast": 77},
            "sourceResourceGroupName": "src-s3cret", "diskSizeGb": 77,
        });
        for p in res.plain_in_azure() {
            let mut patch = json!({});
            patch[*p] = values[*p].clone();
            if *p == "sourceSnapshotId" {
                patch = match res {
                    Res::Vs => json!({"sourceSnapshotId": SNAP, "sourceDiskId": null}),
                    Res::Rd => json!({"sourceSnapshotId": SNAP, "dataset": null, "version": null}),
                };
            }
            if *p == "sku" && matches!(res, Res::Rd) {
                patch[*p] = json!("Premium_ZRS");
            }
            let (_, f) = check(res, &json!({}), &with(res, &patch), &[p]);
            let secret = &values[*p];
            let at: Vec<&Failure> = f.iter().filter(|f| f.property == *p).collect();
            assert_eq!(at.len(), 1, "{res:?} secret {p}: {f:?}");
            assert!(at[0].reason.contains("plain text"), "{:?}", at[0]);
            let texts: Vec<String> = match secret {
                Json::Object(m) => m
                    .values()
                    .map(|v| v.to_string().trim_matches('"').to_string())
                    .collect(),
                v => vec![v.to_string().trim_matches('"').to_string()],
            };
            for f in &f {
                for t in &texts {
                    assert!(
                        t.len() < 4 || !f.reason.contains(t.as_str()),
                        "{res:?} {p}: {t} in {f:?}"
                    );
                }
            }
        }
    }
}

/// A secret `snapshotName` that also breaks the name rule: both failures, neither prints
/// it (nor its escaped spelling).
#[test]
fn a_bad_secret_snapshot_name_is_never_printed() {
    for name in ["bad name!", "bad \"quoted\" name"] {
        let (_, f) = check(
            Res::Vs,
            &json!({}),
            &with(Res::Vs, &json!({"snapshotName": name})),
            &["snapshotName"],
        );
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f.property == "snapshotName"), "{f:?}");
        let escaped = format!("{name:?}");
        for f in &f {
            assert!(!f.reason.contains(name), "{f:?}");
            assert!(!f.reason.contains(&escaped[1..escaped.len() - 1]), "{f:?}");
        }
    }
    // A secret map's keys are as secret as its values.
    let (_, f) = check(
        Res::Vs,
        &json!({}),
        &with(Res::Vs, &json!({"tags": {"hidden/key": "v"}})),
        &["tags"],
    );
    assert!(!f.is_empty());
    for f in &f {
        assert!(
            !f.reason.contains("hidden/key") && !f.property.contains("hidden/key"),
            "{f:?}"
        );
    }
}

/// A name once recorded stays while the version (or the disk's source) is the same, even
/// when the default rule would now give another one; a new version gets the new default.
#[test]
fn a_recorded_name_never_changes_under_an_existing_stack() {
    let news = with(Res::Vs, &json!({"dataset": "x", "version": "1-v2"}));
    let (fresh, f) = check(Res::Vs, &json!({}), &news, &[]);
    assert!(f.is_empty(), "{f:?}");
    assert_ne!(fresh.values["snapshotName"], json!("x-v1-v2"));
    // Recorded under the old rule.
    let mut olds = news.clone();
    olds["snapshotName"] = json!("x-v1-v2");
    let (kept, f) = check(Res::Vs, &olds, &news, &[]);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(kept.values["snapshotName"], json!("x-v1-v2"));
    // A new version is a new snapshot, with the new rule's name.
    let bumped = with(Res::Vs, &json!({"dataset": "x", "version": "1-v3"}));
    let (renamed, _) = check(Res::Vs, &olds, &bumped, &[]);
    assert_ne!(renamed.values["snapshotName"], json!("x-v1-v2"));
    // An explicit new name wins.
    let mut named = news.clone();
    named["snapshotName"] = json!("chosen");
    let (chosen, _) = check(Res::Vs, &olds, &named, &[]);
    assert_eq!(chosen.values["snapshotName"], json!("chosen"));

    let news = with(Res::Rd, &json!({"dataset": "x", "version": "1-v2"}));
    let mut olds = news.clone();
    olds["diskName"] = json!("x-v1-v2-disk");
    let (kept, f) = check(Res::Rd, &olds, &news, &[]);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(kept.values["diskName"], json!("x-v1-v2-disk"));
    let (fresh, _) = check(Res::Rd, &json!({}), &news, &[]);
    assert_ne!(fresh.values["diskName"], json!("x-v1-v2-disk"));
    let bumped = with(Res::Rd, &json!({"dataset": "x", "version": "3"}));
    let (renamed, _) = check(Res::Rd, &olds, &bumped, &[]);
    assert_eq!(renamed.values["diskName"], json!("x-v3-disk"));
}

/// The disk's region is known only at Create: a `location` elsewhere is refused, naming
/// `location` and the way to a copy there, after reads only (no PUT).
#[tokio::test]
async fn a_snapshot_outside_its_disks_region_is_refused_before_any_write() {
    use crate::azure::testing::client_with;
    use crate::azure::{CancelToken, ClientOptions, HttpResponse};
    use crate::resource::{Env, NoLog, ResourceError};

    let not_found = HttpResponse::new(404)
        .with_json(&json!({"error": {"code": "ResourceNotFound", "message": "no"}}));
    let disk = HttpResponse::new(200).with_json(&json!({"id": DISK, "name": "data", "location": "westus",
        "properties": {"provisioningState": "Succeeded", "diskSizeGB": 8, "creationData": {"createOption": "Empty"}}}));
    let (arm, transport) = client_with(ClientOptions::for_tests(), vec![not_found, disk]);
    let env = Env::new(
        std::sync::Arc::new(NoLog),
        "urn:pulumi:dev::p::datasnap:index:VersionedSnapshot::data",
        None,
        std::time::Duration::from_secs(60),
        Some(arm),
        CancelToken::new(),
    );
    let (inputs, f) = check(
        Res::Vs,
        &json!({}),
        &with(Res::Vs, &json!({"location": "West Europe"})),
        &[],
    );
    assert!(f.is_empty(), "{f:?}");
    let inputs: vs::Inputs = serde_json::from_value(Json::Object(inputs.values)).unwrap();
    match VersionedSnapshot.create(&env, inputs).await {
        Err(ResourceError::Invalid { property, reason }) => {
            assert_eq!(property, "location");
            for w in [
                "\"West Europe\" is not the region of the source disk (\"westus\")",
                "sourceSnapshotId",
                "CopyStart",
            ] {
                assert!(reason.contains(w), "{w:?} not in {reason}");
            }
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("created"),
    }
    let lines = transport.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.iter().all(|l| l.starts_with("GET ")), "{lines:?}");
}
