//! Snapshot operations on ARM: get, create (with the LRO and, for `CopyStart`, the wait for
//! the copy to reach 100 %), the wait for a snapshot to finish provisioning, update, delete
//! ("already gone" is success) and list. Both waits are probes for
//! [`crate::azure::poll::poll_until`].

use crate::azure::client::{ArmClient, Op, OpContext, API_VERSION};
use crate::azure::compute::is_gone;
use crate::azure::errors::AzureError;
use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::lro::{FinalState, OperationStatus};
use crate::azure::models::{Snapshot, SnapshotList};
use crate::azure::poll::{poll_until, Probe};
use reqwest::Method;
use std::time::Duration;

/// The wait between GETs while a snapshot finishes provisioning (it is usually seconds).
const READY_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Judge a `CopyStart` snapshot: failed (`copyCompletionError`), done (100 %, or not a copy),
/// or still copying, with its percentage as the progress line.
fn copy_probe(
    name: &str,
    is_copy: bool,
    delay: Duration,
    snapshot: Snapshot,
) -> Result<Probe<(), Snapshot>, AzureError> {
    if let Some(err) = &snapshot.properties.copy_completion_error {
        return Err(AzureError::OperationFailed {
            code: if err.error_code.is_empty() {
                "CopyFailed".into()
            } else {
                err.error_code.clone()
            },
            message: if err.error_message.is_empty() {
                format!("the copy into snapshot {name} failed")
            } else {
                err.error_message.clone()
            },
        });
    }
    let percent = snapshot.properties.completion_percent;
    let progress = percent
        .filter(|_| is_copy)
        .map(|p| format!("copying snapshot {name} ... {p:.0}%"));
    let done = !is_copy || percent.is_none_or(|p| p >= 100.0);
    let probe = if done {
        Probe::done(snapshot)
    } else {
        Probe::again((), delay)
    };
    Ok(probe.reporting(progress))
}

/// Judge a snapshot's `provisioningState`: no state or `Succeeded` is ready, `Failed` or
/// `Canceled` is an error, anything else is still provisioning.
fn ready_probe(name: &str, snapshot: Snapshot) -> Result<Probe<(), Snapshot>, AzureError> {
    let state = snapshot
        .properties
        .provisioning_state
        .clone()
        .unwrap_or_default();
    if state.is_empty() {
        return Ok(Probe::done(snapshot));
    }
    match OperationStatus::parse(&state) {
        OperationStatus::Succeeded => Ok(Probe::done(snapshot)),
        OperationStatus::Failed | OperationStatus::Canceled => Err(AzureError::OperationFailed {
            code: "SnapshotNotUsable".into(),
            message: format!(
                "snapshot {name} is in provisioning state {state}; restore another version"
            ),
        }),
        OperationStatus::Running(_) => Ok(Probe::again((), READY_POLL_INTERVAL).reporting(Some(
            format!("waiting for snapshot {name} to finish provisioning ({state})"),
        ))),
    }
}

/// The most pages a list follows (a guard against a `nextLink` loop).
const MAX_PAGES: usize = 1000;

impl ArmClient {
    /// PUT a snapshot and wait until it is usable. Callers GET first: PUT is an upsert.
    ///
    /// Failures after Azure accepted the PUT are [`AzureError::AfterAccepted`], so the caller
    /// can record a partial create. For `createOption: CopyStart` the copy is followed until
    /// `completionPercent` reaches 100, reporting "copying snapshot x ... 40%" to `ctx`.
    pub async fn create_snapshot(
        &self,
        id: &ResourceId,
        body: &Snapshot,
        ctx: &OpContext,
    ) -> Result<Snapshot, AzureError> {
        let op = Op::new(format!("creating snapshot {}", id.name));
        let snapshot = self.write_resource(Method::PUT, id, body, ctx, &op).await?;
        self.wait_for_copy(id, snapshot, ctx)
            .await
            .map_err(|e| e.after_accepted(id))
    }

    /// Follow a `CopyStart` copy: poll GET until `completionPercent` is 100 or
    /// `copyCompletionError` is set.
    async fn wait_for_copy(
        &self,
        id: &ResourceId,
        snapshot: Snapshot,
        ctx: &OpContext,
    ) -> Result<Snapshot, AzureError> {
        let op = Op::new(format!("copying snapshot {}", id.name));
        let is_copy = snapshot
            .properties
            .creation_data
            .create_option
            .eq_ignore_ascii_case("CopyStart");
        let delay = self.options().copy_poll_interval;
        let url = self.resource_url(id);
        let (url, op) = (&url, &op);
        let first = copy_probe(&id.name, is_copy, delay, snapshot)?;
        poll_until(ctx, op, first, move |()| async move {
            let snapshot = self.get_json(url, ctx, op).await?;
            copy_probe(&id.name, is_copy, delay, snapshot)
        })
        .await
    }

    /// Wait until `snapshot` leaves a non-terminal `provisioningState` (Azure refuses to copy
    /// from a snapshot still being provisioned), re-reading it every half second within the
    /// operation's deadline and reporting "waiting for snapshot x to finish provisioning
    /// (Creating)". `Failed` or `Canceled` fail with code `SnapshotNotUsable`; a snapshot that
    /// disappears meanwhile is [`AzureError::NotFound`].
    pub async fn wait_for_snapshot_ready(
        &self,
        snapshot: Snapshot,
        ctx: &OpContext,
    ) -> Result<Snapshot, AzureError> {
        let name = snapshot.name.clone().unwrap_or_default();
        let raw_id = snapshot.id.clone().unwrap_or_default();
        let op = Op::new(format!(
            "waiting for snapshot {name} to finish provisioning"
        ));
        let (name, raw_id, op) = (&name, &raw_id, &op);
        let first = ready_probe(name, snapshot)?;
        poll_until(ctx, op, first, move |()| async move {
            let id = ResourceId::parse(raw_id, ResourceKind::Snapshot).map_err(|e| {
                AzureError::Decode {
                    what: format!("the id of snapshot {name}"),
                    message: e.to_string(),
                }
            })?;
            match self.get::<Snapshot>(&id, ctx).await? {
                Some(snapshot) => ready_probe(name, snapshot),
                None => Err(AzureError::NotFound {
                    code: "ResourceNotFound".into(),
                    message: format!("snapshot {name} disappeared while waiting for it."),
                }),
            }
        })
        .await
    }

    /// Grants read access to a snapshot for `seconds` (`Snapshots_GrantAccess`, a POST whose
    /// operation ends at its `Location`): the SAS URL Azure hands out. The URL is a secret:
    /// it is returned, never logged.
    pub async fn grant_read_access(
        &self,
        id: &ResourceId,
        seconds: i64,
        ctx: &OpContext,
    ) -> Result<String, AzureError> {
        let body = serde_json::json!({"access": "Read", "durationInSeconds": seconds});
        let answer = self
            .execute(
                Method::POST,
                &format!("{id}/beginGetAccess"),
                Some(&body),
                FinalState::Location,
                ctx,
            )
            .await?;
        answer
            .as_ref()
            .and_then(|a| a.get("accessSAS"))
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .ok_or_else(|| AzureError::Decode {
                what: format!("the access grant of snapshot {}", id.name),
                message: "Azure's answer has no accessSAS".into(),
            })
    }

    /// Revokes every access grant of a snapshot (`Snapshots_RevokeAccess`): Azure keeps one
    /// access state per snapshot, so this ends every SAS handed out for it. A snapshot
    /// already gone is success.
    pub async fn revoke_access(&self, id: &ResourceId, ctx: &OpContext) -> Result<(), AzureError> {
        match self
            .execute(
                Method::POST,
                &format!("{id}/endGetAccess"),
                None,
                FinalState::Location,
                ctx,
            )
            .await
        {
            Err(e) if is_gone(&e) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Every snapshot in a resource group (follows `nextLink`). A missing group is an empty list.
    pub async fn list_snapshots(
        &self,
        resource_group: &str,
        ctx: &OpContext,
    ) -> Result<Vec<Snapshot>, AzureError> {
        let op = Op::new(format!(
            "listing snapshots in resource group {resource_group}"
        ));
        let mut url = self.url(
            &format!(
                "/subscriptions/{}/resourceGroups/{resource_group}/providers/Microsoft.Compute/snapshots",
                self.subscription_id()
            ),
            API_VERSION,
        );
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let page: SnapshotList = match self.get_json(&url, ctx, &op).await {
                Ok(p) => p,
                Err(e) if is_gone(&e) && out.is_empty() => return Ok(out),
                Err(e) => return Err(e),
            };
            out.extend(page.value);
            match page.next_link.filter(|l| !l.is_empty()) {
                Some(next) if seen.insert(next.clone()) => {
                    url = self.normalize_url(&next, API_VERSION);
                }
                _ => return Ok(out),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::client::{CancelToken, ClientOptions, HttpResponse};
    use crate::azure::id::ResourceKind;
    use crate::azure::models::SnapshotUpdate;
    use crate::azure::models::{CreationData, SnapshotProperties};
    use crate::azure::testing::{client_with, timeout_of};
    use serde_json::json;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn id() -> ResourceId {
        ResourceId::new("sub", "rg", ResourceKind::Snapshot, "ds-v1")
    }

    const PATH: &str =
        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/snapshots/ds-v1";

    fn ctx() -> OpContext {
        OpContext::new(Duration::from_secs(3600), CancelToken::new())
    }

    fn body(option: &str) -> Snapshot {
        Snapshot {
            location: "westus".into(),
            properties: SnapshotProperties {
                creation_data: CreationData {
                    create_option: option.into(),
                    source_resource_id: Some(
                        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/disks/d"
                            .into(),
                    ),
                    ..Default::default()
                },
                incremental: Some(true),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn snap(state: &str, extra: serde_json::Value) -> HttpResponse {
        let mut v = json!({"id": PATH, "name": "ds-v1", "location": "westus",
            "properties": {"provisioningState": state, "creationData": {"createOption": "Copy"}}});
        if let (Some(props), Some(extra)) = (v["properties"].as_object_mut(), extra.as_object()) {
            props.extend(extra.clone());
        }
        HttpResponse::new(200).with_json(&v)
    }

    fn not_found(code: &str) -> HttpResponse {
        HttpResponse::new(404).with_json(&json!({"error": {"code": code, "message": "nope"}}))
    }

    #[tokio::test]
    async fn get_maps_404_to_none_but_not_other_404s() {
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![
                not_found("ResourceNotFound"),
                not_found("ResourceGroupNotFound"),
                not_found("SubscriptionNotFound"),
                snap("Succeeded", json!({})),
            ],
        );
        assert!(client
            .get::<Snapshot>(&id(), &ctx())
            .await
            .unwrap()
            .is_none());
        assert!(client
            .get::<Snapshot>(&id(), &ctx())
            .await
            .unwrap()
            .is_none());
        assert!(client.get::<Snapshot>(&id(), &ctx()).await.is_err());
        let s = client
            .get::<Snapshot>(&id(), &ctx())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.name.as_deref(), Some("ds-v1"));
        assert_eq!(t.lines()[0], format!("GET {PATH}"));
    }

    #[tokio::test(start_paused = true)]
    async fn create_puts_polls_and_reads() {
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![
                HttpResponse::new(202)
                    .with_header("Azure-AsyncOperation", "http://arm.test/op/1")
                    .with_json(&json!({"properties": {"provisioningState": "Updating"}})),
                HttpResponse::new(200).with_json(&json!({"status": "Succeeded"})),
                snap("Succeeded", json!({"incremental": true})),
            ],
        );
        let s = client
            .create_snapshot(&id(), &body("Copy"), &ctx())
            .await
            .unwrap();
        assert_eq!(
            s.properties.provisioning_state.as_deref(),
            Some("Succeeded")
        );
        assert_eq!(
            t.lines(),
            [
                format!("PUT {PATH}"),
                "GET /op/1".to_string(),
                format!("GET {PATH}")
            ]
        );
        let put = &t.requests()[0];
        let sent: serde_json::Value = serde_json::from_slice(put.body.as_ref().unwrap()).unwrap();
        assert_eq!(sent["properties"]["creationData"]["createOption"], "Copy");
        assert_eq!(put.header("content-type"), Some("application/json"));
    }

    #[tokio::test(start_paused = true)]
    async fn failure_before_accept_is_plain_and_after_is_after_accepted() {
        let (client, _t) = client_with(
            ClientOptions::for_tests(),
            vec![HttpResponse::new(400)
                .with_json(&json!({"error": {"code": "InvalidParameter", "message": "bad"}}))],
        );
        let err = client
            .create_snapshot(&id(), &body("Copy"), &ctx())
            .await
            .unwrap_err();
        assert!(matches!(err, AzureError::BadRequest { .. }));

        let (client, _t) = client_with(
            ClientOptions::for_tests(),
            vec![
                HttpResponse::new(202).with_header("Azure-AsyncOperation", "http://arm.test/op/1"),
                HttpResponse::new(200).with_json(
                    &json!({"status": "Failed", "error": {"code": "DiskNotReady", "message": "x"}}),
                ),
            ],
        );
        let err = client
            .create_snapshot(&id(), &body("Copy"), &ctx())
            .await
            .unwrap_err();
        match &err {
            AzureError::AfterAccepted { id, source } => {
                assert_eq!(id, PATH);
                assert_eq!(source.code(), Some("DiskNotReady"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn copy_start_waits_for_100_percent_and_reports_progress() {
        let copy = |pct: f64| {
            let mut r = snap("Succeeded", json!({"completionPercent": pct}));
            let mut v = r.json();
            v["properties"]["creationData"]["createOption"] = json!("CopyStart");
            r = HttpResponse::new(200).with_json(&v);
            r
        };
        let (client, t) = client_with(
            ClientOptions {
                copy_poll_interval: Duration::from_secs(30),
                ..ClientOptions::for_tests()
            },
            vec![copy(0.0), copy(40.0), copy(40.0), copy(100.0)],
        );
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let ctx = ctx().with_progress(Arc::new(move |l| sink.lock().unwrap().push(l)));
        let start = tokio::time::Instant::now();
        let s = client
            .create_snapshot(&id(), &body("CopyStart"), &ctx)
            .await
            .unwrap();
        assert_eq!(s.properties.completion_percent, Some(100.0));
        assert_eq!(
            *lines.lock().unwrap(),
            [
                "copying snapshot ds-v1 ... 0%",
                "copying snapshot ds-v1 ... 40%",
                "copying snapshot ds-v1 ... 100%"
            ]
        );
        assert_eq!(t.requests().len(), 4);
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(90),
            "three copy polls, 30 s apart"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn copy_completion_error_fails_with_its_code() {
        let mut v = snap("Succeeded", json!({"completionPercent": 10.0, "copyCompletionError": {"errorCode": "CopySourceNotFound", "errorMessage": "source deleted"}})).json();
        v["properties"]["creationData"]["createOption"] = json!("CopyStart");
        let (client, _t) = client_with(
            ClientOptions::for_tests(),
            vec![HttpResponse::new(200).with_json(&v)],
        );
        let err = client
            .create_snapshot(&id(), &body("CopyStart"), &ctx())
            .await
            .unwrap_err();
        assert!(matches!(err, AzureError::AfterAccepted { .. }));
        assert_eq!(err.code(), Some("CopySourceNotFound"));
    }

    #[tokio::test(start_paused = true)]
    async fn update_patches_and_polls_location() {
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![
                HttpResponse::new(202).with_header(
                    "Location",
                    &format!("http://arm.test{PATH}?api-version=2025-01-02"),
                ),
                snap("Succeeded", json!({})),
            ],
        );
        let update = SnapshotUpdate {
            tags: Some([("a".to_string(), "b".to_string())].into()),
            ..Default::default()
        };
        client.update(&id(), &update, &ctx()).await.unwrap();
        // The Location (the resource URL itself, as in DiskRP) ends with the resource: no extra GET.
        assert_eq!(t.lines(), [format!("PATCH {PATH}"), format!("GET {PATH}")]);
        let sent: serde_json::Value =
            serde_json::from_slice(t.requests()[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(sent, json!({"tags": {"a": "b"}}));
    }

    #[tokio::test(start_paused = true)]
    async fn delete_treats_gone_as_success() {
        let (client, _t) = client_with(ClientOptions::for_tests(), vec![HttpResponse::new(204)]);
        client.delete(&id(), &ctx()).await.unwrap();
        let (client, _t) = client_with(
            ClientOptions::for_tests(),
            vec![not_found("ResourceNotFound")],
        );
        client.delete(&id(), &ctx()).await.unwrap();
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![
                HttpResponse::new(202).with_header(
                    "Location",
                    "/subscriptions/sub/providers/Microsoft.Compute/locations/westus/operations/d1",
                ),
                HttpResponse::new(202),
                HttpResponse::new(200),
            ],
        );
        client.delete(&id(), &ctx()).await.unwrap();
        assert_eq!(t.requests().len(), 3);
        let (client, _t) = client_with(
            ClientOptions::for_tests(),
            vec![HttpResponse::new(409)
                .with_json(&json!({"error": {"code": "Conflict", "message": "SAS active"}}))],
        );
        assert_eq!(
            client.delete(&id(), &ctx()).await.unwrap_err().code(),
            Some("Conflict")
        );
    }

    #[tokio::test]
    async fn list_follows_next_link() {
        let item = |n: &str| json!({"name": n, "location": "westus", "properties": {"creationData": {"createOption": "Copy"}}});
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![
                HttpResponse::new(200).with_json(&json!({"value": [item("a"), item("b")], "nextLink": "http://arm.test/page2?api-version=2025-01-02&$skiptoken=x"})),
                HttpResponse::new(200).with_json(&json!({"value": [item("c")]})),
            ],
        );
        let all = client.list_snapshots("rg", &ctx()).await.unwrap();
        let names: Vec<_> = all.iter().map(|s| s.name.clone().unwrap()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(
            t.lines()[0],
            "GET /subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/snapshots"
        );
        assert_eq!(
            t.requests()[1].url,
            "http://arm.test/page2?api-version=2025-01-02&$skiptoken=x"
        );
    }

    fn snapshot_in(state: &str) -> Snapshot {
        serde_json::from_value(snap(state, json!({})).json()).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn ready_wait_polls_until_succeeded_and_reports_once() {
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![snap("Creating", json!({})), snap("Succeeded", json!({}))],
        );
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let ctx = ctx().with_progress(Arc::new(move |l| sink.lock().unwrap().push(l)));
        let start = tokio::time::Instant::now();
        let s = client
            .wait_for_snapshot_ready(snapshot_in("Creating"), &ctx)
            .await
            .unwrap();
        assert_eq!(
            s.properties.provisioning_state.as_deref(),
            Some("Succeeded")
        );
        assert_eq!(t.lines(), [format!("GET {PATH}"), format!("GET {PATH}")]);
        assert_eq!(start.elapsed(), 2 * READY_POLL_INTERVAL);
        assert_eq!(
            *lines.lock().unwrap(),
            ["waiting for snapshot ds-v1 to finish provisioning (Creating)"]
        );
        // Already usable: no request at all.
        let s = client
            .wait_for_snapshot_ready(snapshot_in("Succeeded"), &ctx)
            .await
            .unwrap();
        assert_eq!(s.name.as_deref(), Some("ds-v1"));
        assert_eq!(t.requests().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn ready_wait_fails_on_failed_gone_or_deadline() {
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![not_found("ResourceNotFound")],
        );
        let err = client
            .wait_for_snapshot_ready(snapshot_in("Failed"), &ctx())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("SnapshotNotUsable"));
        assert!(err.to_string().contains("restore another version"), "{err}");
        assert!(t.requests().is_empty());

        let err = client
            .wait_for_snapshot_ready(snapshot_in("Creating"), &ctx())
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        assert!(err.to_string().contains("disappeared"), "{err}");

        let (client, t) = client_with(ClientOptions::for_tests(), vec![]);
        for _ in 0..10 {
            t.push(snap("Creating", json!({})));
        }
        let ctx = OpContext::new(Duration::from_millis(1200), CancelToken::new());
        let err = client
            .wait_for_snapshot_ready(snapshot_in("Creating"), &ctx)
            .await
            .unwrap_err();
        assert_eq!(
            timeout_of(err).0,
            "waiting for snapshot ds-v1 to finish provisioning"
        );
        assert_eq!(
            t.requests().len(),
            2,
            "polled at 0.5 s and 1 s, deadline at 1.2 s"
        );
    }
}
