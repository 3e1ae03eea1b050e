//! Replays every official snapshot and disk example in the DiskRP spec folder
//! (`$AZURE_REST_API_SPECS`, which `make` sets to a pinned copy it fetches): each
//! example request must be accepted, answered with one of the example's status codes
//! and headers, and the answer must have the example response's shape (every key the
//! example shows, recursively, with the same JSON type). Each example runs twice:
//! synchronously and with 200 ms long-running operations (then polled to the end).
//!
//! With `DATASNAP_EMULATOR_RECORD_DIR` set, the traffic is recorded for oav.

mod common;

use common::Emu;
use reqwest::Method;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

const DISKRP: &str =
    "specification/compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02";

/// Keys the examples show that only exist for disks attached to VMs, which the emulator has none of.
const ATTACH_ONLY: &[&str] = &["managedBy", "LastOwnershipUpdateTime"];

pub fn specs_root() -> PathBuf {
    match std::env::var_os("AZURE_REST_API_SPECS") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "AZURE_REST_API_SPECS is not set: set AZURE_REST_API_SPECS or run through make, \
             which fetches the specs"
        ),
    }
}

struct Example {
    file: String,
    method: Method,
    template: String,
    operation: String,
    doc: Value,
}

fn load_examples() -> (Vec<Example>, Vec<String>) {
    let root = specs_root().join(DISKRP);
    let text = std::fs::read_to_string(root.join("DiskRP.json")).unwrap_or_else(|e| {
        panic!(
            "DiskRP.json under {} (set AZURE_REST_API_SPECS): {e}",
            root.display()
        )
    });
    let spec: Value = serde_json::from_str(&text).expect("DiskRP.json");
    let mut examples = Vec::new();
    let mut missing = Vec::new();
    for (template, ops) in spec["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("ops") {
            let Some(refs) = op.get("x-ms-examples").and_then(Value::as_object) else {
                continue;
            };
            for r in refs.values() {
                let rel = r["$ref"].as_str().expect("$ref");
                if !(rel.contains("snapshotExamples/") || rel.contains("diskExamples/")) {
                    continue;
                }
                let path = root.join(rel.trim_start_matches("./"));
                let Ok(text) = std::fs::read_to_string(&path) else {
                    missing.push(rel.to_string());
                    continue;
                };
                examples.push(Example {
                    file: rel.rsplit('/').next().unwrap_or(rel).to_string(),
                    method: method.to_uppercase().parse().expect("method"),
                    template: template.clone(),
                    operation: op["operationId"].as_str().unwrap_or("").to_string(),
                    doc: serde_json::from_str(&text).expect("example json"),
                });
            }
        }
    }
    (examples, missing)
}

fn fill_placeholders(value: &Value, sub: &str) -> Value {
    match value {
        Value::String(s) => Value::String(
            s.replace("{subscription-id}", sub)
                .replace("{subscriptionId}", sub),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| fill_placeholders(v, sub)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), fill_placeholders(v, sub)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every key of `expected` must be in `actual` with the same JSON type (recursively).
fn shape_errors(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                if ATTACH_ONLY.contains(&k.as_str()) {
                    continue;
                }
                match a.get(k) {
                    Some(av) => shape_errors(ev, av, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k} missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let (Some(ev), Some(av)) = (e.first(), a.first()) {
                shape_errors(ev, av, &format!("{path}[0]"), out);
            } else if !e.is_empty() {
                out.push(format!("{path} is empty"));
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        (e, a) => out.push(format!("{path}: expected a value like {e}, got {a}")),
    }
}

/// A create body from an example resource representation (read-only fields dropped).
fn create_body(resource: &Value) -> Value {
    let mut body = resource.clone();
    let obj = body.as_object_mut().expect("resource object");
    for k in ["id", "name", "type", "managedBy", "systemData"] {
        obj.remove(k);
    }
    if let Some(p) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        for k in [
            "provisioningState",
            "timeCreated",
            "uniqueId",
            "diskSizeBytes",
            "diskState",
            "incrementalSnapshotFamilyId",
            "LastOwnershipUpdateTime",
        ] {
            p.remove(k);
        }
        if let Some(cd) = p.get_mut("creationData").and_then(Value::as_object_mut) {
            cd.remove("sourceUniqueId");
        }
    }
    if obj.get("location").is_none() {
        obj.insert("location".into(), json!("West US"));
    }
    body
}

struct Replay<'a> {
    emu: &'a Emu,
    sub: String,
}

impl Replay<'_> {
    async fn ensure_group(&self, rg: &str) {
        if self.emu.get(&self.emu.group_path(rg)).await.status == 404 {
            self.emu.create_group(rg).await;
        }
    }

    /// Make sure the disk or snapshot that `id` names exists (sources of copies).
    async fn ensure_resource(&self, id: &str) {
        let segs: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
        if segs.len() != 8 || !segs[5].eq_ignore_ascii_case("Microsoft.Compute") {
            return;
        }
        let (rg, kind, name) = (segs[3], segs[6], segs[7]);
        self.ensure_group(rg).await;
        let path = self.emu.path(rg, kind, name);
        if self.emu.get(&path).await.status == 200 {
            return;
        }
        if kind.eq_ignore_ascii_case("disks") {
            self.emu.create_disk(rg, name, 10).await;
        } else {
            let helper = format!("{name}-source-disk");
            self.emu.create_disk(rg, &helper, 10).await;
            let r = self
                .emu
                .create_snapshot(rg, name, &self.emu.id(rg, "disks", &helper), true)
                .await;
            assert!(r.status.is_success(), "{:?}", r.body);
            self.emu.wait_succeeded(&path).await;
        }
    }

    async fn ensure_sources(&self, body: &Value) {
        if let Some(src) = body["properties"]["creationData"]["sourceResourceId"].as_str() {
            Box::pin(self.ensure_resource(src)).await;
        }
    }

    /// Create a resource shaped like an example response (GET and list examples).
    async fn ensure_like(&self, rg: &str, kind: &str, name: &str, example: &Value) {
        self.ensure_group(rg).await;
        let path = self.emu.path(rg, kind, name);
        if self.emu.get(&path).await.status == 200 {
            return;
        }
        let mut body = create_body(example);
        let self_ref = body["properties"]["creationData"]["sourceResourceId"]
            .as_str()
            .is_some_and(|s| s.trim_end_matches('/').ends_with(&format!("/{name}")));
        if self_ref {
            body["properties"]["creationData"]["sourceResourceId"] =
                json!(self.emu.id(rg, "disks", &format!("{name}-source-disk")));
        }
        self.ensure_sources(&body).await;
        let r = self.emu.put(&path, body.clone()).await;
        assert!(
            r.status.is_success(),
            "creating {name} like the example: {} {:?} from {body}",
            r.status,
            r.body
        );
        self.emu.wait_succeeded(&path).await;
    }

    async fn run(&self, ex: &Example) -> Result<(), String> {
        let params = fill_placeholders(&ex.doc["parameters"], &self.sub);
        let responses = fill_placeholders(&ex.doc["responses"], &self.sub);
        let rg = params["resourceGroupName"]
            .as_str()
            .unwrap_or("myResourceGroup")
            .to_string();
        let (kind, name_param, body_param) = if ex.template.contains("/disks") {
            ("disks", "diskName", "disk")
        } else {
            ("snapshots", "snapshotName", "snapshot")
        };
        let name = params[name_param].as_str().unwrap_or("").to_string();
        let mut path = ex
            .template
            .replace("{subscriptionId}", &self.sub)
            .replace("{resourceGroupName}", &rg)
            .replace(&format!("{{{name_param}}}"), &name);
        path.push_str(&format!(
            "?api-version={}",
            params["api-version"].as_str().unwrap_or(common::API)
        ));
        let op = ex.operation.as_str();
        let mut body = None;
        if op.ends_with("_CreateOrUpdate")
            || op.ends_with("_Update")
            || op.ends_with("_GrantAccess")
        {
            body = params
                .get(body_param)
                .or_else(|| params.get("grantAccessData"))
                .cloned();
        }
        // Each example starts from an empty world, as if in a fresh subscription.
        self.emu
            .control(Method::POST, "/reset", Some(json!({"seed": false})))
            .await;
        self.ensure_group(&rg).await;
        if op.ends_with("_Get") {
            self.ensure_like(&rg, kind, &name, &responses["200"]["body"])
                .await;
        } else if op.contains("_List") {
            for item in responses["200"]["body"]["value"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                let id = item["id"].as_str().unwrap_or("");
                let segs: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
                self.ensure_like(segs[3], kind, segs[7], &item).await;
            }
        } else if op.ends_with("_Update") || op.ends_with("_Delete") || op.ends_with("Access") {
            let like = json!({"location": "West US", "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 10}});
            if kind == "disks" {
                self.ensure_like(&rg, kind, &name, &like).await;
            } else {
                self.ensure_resource(&self.emu.id(&rg, kind, &name)).await;
            }
        } else if let Some(b) = &body {
            self.ensure_sources(b).await;
        }
        let r = self.emu.arm(ex.method.clone(), &path, body.as_ref()).await;
        let status = r.status.as_u16().to_string();
        let Some(expected) = responses.get(&status) else {
            return Err(format!(
                "status {status} is not among the example's {:?}: {:?}",
                responses.as_object().map(|o| o.keys().collect::<Vec<_>>()),
                r.body
            ));
        };
        for header in expected
            .get("headers")
            .and_then(Value::as_object)
            .map(Map::keys)
            .into_iter()
            .flatten()
        {
            if r.header(&header.to_ascii_lowercase()).is_none() {
                return Err(format!("{status} lacks header {header}"));
            }
        }
        let mut errors = Vec::new();
        if let Some(eb) = expected.get("body") {
            if op.contains("_List") {
                // Compare each listed example item with the emulator's item of the same name.
                for item in eb["value"].as_array().cloned().unwrap_or_default() {
                    let ours = r.body["value"]
                        .as_array()
                        .and_then(|v| v.iter().find(|o| o["name"] == item["name"]));
                    match ours {
                        Some(o) => {
                            shape_errors(&item, o, &format!("value[{}]", item["name"]), &mut errors)
                        }
                        None => errors.push(format!("{} not listed", item["name"])),
                    }
                }
            } else {
                shape_errors(eb, &r.body, "body", &mut errors);
            }
        }
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        // Follow a 202 to its end: the operation must succeed.
        if let Some(url) = r.header("azure-asyncoperation") {
            for _ in 0..100 {
                let s = self.emu.get(&url).await;
                match s.body["status"].as_str() {
                    Some("Succeeded") => return Ok(()),
                    Some("InProgress") => {
                        tokio::time::sleep(std::time::Duration::from_millis(25)).await
                    }
                    other => return Err(format!("operation ended {other:?}: {:?}", s.body)),
                }
            }
            return Err("operation never finished".into());
        }
        Ok(())
    }
}

async fn replay_all(op_duration_ms: u64) -> BTreeMap<String, String> {
    let record = std::env::var_os("DATASNAP_EMULATOR_RECORD_DIR")
        .map(|d| PathBuf::from(d).join(format!("examples-{op_duration_ms}ms")));
    let emu = Emu::start_with(move |c| {
        c.op_duration_ms = op_duration_ms;
        c.retry_after_secs = Some(0);
        c.record_dir = record;
    })
    .await;
    let replay = Replay {
        emu: &emu,
        sub: emu.sub(),
    };
    let (examples, missing) = load_examples();
    if !missing.is_empty() {
        eprintln!(
            "{} examples referenced by DiskRP.json are not in the copied spec folder (skipped)",
            missing.len()
        );
    }
    let mut failures = BTreeMap::new();
    for ex in &examples {
        if let Err(e) = replay.run(ex).await {
            failures.insert(ex.file.clone(), e);
        }
    }
    emu.stop().await;
    failures
}

#[tokio::test]
async fn every_example_file_in_the_spec_folder_is_referenced() {
    let root = specs_root().join(DISKRP).join("examples");
    let (examples, _) = load_examples();
    let mut on_disk = 0;
    for dir in ["snapshotExamples", "diskExamples"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("examples dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .to_string();
            on_disk += 1;
            assert!(
                examples.iter().any(|e| e.file == name),
                "{name} is not referenced by DiskRP.json"
            );
        }
    }
    assert!(
        on_disk >= 21,
        "expected the 21 copied examples, found {on_disk}"
    );
}

#[tokio::test]
async fn examples_replay_synchronously() {
    let failures = replay_all(0).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn examples_replay_as_long_running_operations() {
    let failures = replay_all(200).await;
    assert!(failures.is_empty(), "{failures:#?}");
}
