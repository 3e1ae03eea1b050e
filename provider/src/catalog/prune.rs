//! Pruning: applying a retention rule to a dataset in Azure after a create, and warning at
//! preview what the coming create would prune.
//!
//! Everything is reported through the engine log ([`Env`]); a failure to prune, or a
//! selected version whose snapshot id cannot be parsed, is a warning and never undoes the
//! create.

use azure_core::time::{to_rfc3339, OffsetDateTime};

use super::listing::{list, list_in};
use super::retention::{select, Retention};
use super::tags;
use super::version::{sort, DatasetVersion};
use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::models::Snapshot;
use crate::azure::{ArmClient, AzureError, OpContext};
use crate::resource::Env;

/// Lists the dataset's versions, prunes what the rule selects, and logs each one. Runs
/// after a create (`current`: the version just created) and after a version is released
/// (`current`: empty), so the rule holds in the steady state.
pub async fn apply(
    env: &Env,
    arm: &ArmClient,
    resource_group: &str,
    dataset: &str,
    rule: Retention,
    current: &str,
) {
    let ctx = env.op();
    let versions = match list_in(arm, resource_group, dataset, &ctx).await {
        Ok(v) => v,
        Err(e) => {
            env.warn(&format!(
                "retention: could not list the versions of dataset \"{dataset}\": {e}; nothing was pruned"
            ));
            return;
        }
    };
    for p in select(rule, &versions, current, OffsetDateTime::now_utc()) {
        let (version, snapshot_id) = (&p.version.version, &p.version.snapshot_id);
        let id = match ResourceId::parse(snapshot_id, ResourceKind::Snapshot) {
            Ok(id) => id,
            Err(e) => {
                env.warn(&format!("retention: version \"{version}\" of dataset \"{dataset}\" was selected ({}), but its id \"{snapshot_id}\" is not a snapshot id ({e}); it is kept", p.reason));
                continue;
            }
        };
        if let Some(why) = &p.held {
            env.warn(&format!("retention: version \"{version}\" of dataset \"{dataset}\" ({snapshot_id}) is selected ({}) but kept for now: {why}", p.reason));
            continue;
        }
        // The listing may be stale: a keep marker, an alias or an export set, or the
        // version held again, since then. Re-read the markers immediately before the DELETE.
        match still_prunable(arm, &id, &ctx).await {
            Ok(true) => {}
            Ok(false) => {
                env.info(&format!("retention: version \"{version}\" of dataset \"{dataset}\" ({snapshot_id}) is kept: it is marked `{}`, an alias points at it, someone reads it through an export, or it is held by a stack again, or already gone", tags::KEEP));
                continue;
            }
            Err(e) => {
                env.warn(&format!("retention: prune of version \"{version}\" ({snapshot_id}) skipped: re-reading it failed: {e}; it is kept and will be tried again"));
                continue;
            }
        }
        // datasnap's own lock (a version taken with `lock: true`) is lifted first; any
        // other lock stays, and Azure then refuses the delete.
        if let Err(e) = super::locks::lift(arm, &id, super::locks::VERSION_LOCK, &ctx).await {
            env.warn(&format!("retention: prune of version \"{version}\" ({snapshot_id}) skipped: {e}; it is kept"));
            continue;
        }
        match arm.delete(&id, &ctx).await {
            Ok(()) => env.info(&format!("retention: pruned version \"{version}\" of dataset \"{dataset}\" ({snapshot_id}): {}", p.reason)),
            Err(e) => env.warn(&format!("retention: prune of version \"{version}\" ({snapshot_id}) failed: {e}; it is kept and will be tried again after the next create or release")),
        }
    }
}

/// True when the snapshot still carries the release marker and no keep marker.
async fn still_prunable(
    arm: &ArmClient,
    id: &ResourceId,
    ctx: &OpContext,
) -> Result<bool, AzureError> {
    let Some(snapshot) = arm.get::<Snapshot>(id, ctx).await? else {
        return Ok(false);
    };
    Ok(!snapshot.access_open()
        && tags::VersionTags::decode(&snapshot.tags).is_some_and(|t| {
            t.retained
                && !t.keeps()
                && t.aliases.is_empty()
                && !t.export_open(OffsetDateTime::now_utc())
        }))
}

/// During preview: warns which versions creating `version` would let the rule prune.
/// `releasing` is the claim of the resource being created: a version it holds now (another
/// version than `version`) is the one this replacement releases, so it counts as retained
/// (under `deletionPolicy: Retain`) or as gone (under `Delete`), as it will be when the
/// rule runs again at its release.
pub async fn warn_planned(
    env: &Env,
    arm: &ArmClient,
    resource_group: &str,
    dataset: &str,
    version: &str,
    rule: Retention,
    releasing: &str,
) {
    let Ok(versions) = list(env, arm, resource_group, dataset).await else {
        return;
    };
    warn_planned_in(env, versions, dataset, version, rule, releasing);
}

/// [`warn_planned`] over versions already listed (the preview's shared listing).
pub fn warn_planned_in(
    env: &Env,
    mut versions: Vec<DatasetVersion>,
    dataset: &str,
    version: &str,
    rule: Retention,
    releasing: &str,
) {
    versions.retain_mut(|v| {
        if v.claim.as_deref() != Some(releasing) || v.version == version || v.retained {
            return true;
        }
        v.retained = true;
        v.deletion_policy.as_deref() != Some("Delete")
    });
    // The version about to be created counts as created now.
    let now = OffsetDateTime::now_utc();
    let planned = format!("(planned) {version}");
    versions.push(DatasetVersion {
        dataset: dataset.into(),
        version: version.into(),
        snapshot_id: planned.clone(),
        time_created: to_rfc3339(&now),
        ..DatasetVersion::default()
    });
    sort(&mut versions);
    let (held, pruned): (Vec<_>, Vec<_>) = select(rule, &versions, &planned, now)
        .into_iter()
        .partition(|p| p.held.is_some());
    for p in &held {
        env.warn(&format!(
            "retention: version \"{}\" of dataset \"{dataset}\" is selected ({}) but will be kept for now: {}",
            p.version.version,
            p.reason,
            p.held.as_deref().unwrap_or_default()
        ));
    }
    if !pruned.is_empty() {
        let list: Vec<String> = pruned
            .iter()
            .map(|p| format!("\"{}\" ({})", p.version.version, p.reason))
            .collect();
        env.warn(&format!(
            "retention: creating version \"{version}\" of dataset \"{dataset}\" will prune {} retained version(s): {}",
            pruned.len(), list.join(", ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use super::*;
    use crate::azure::testing::{client_with, ScriptedTransport};
    use crate::azure::{CancelToken, ClientOptions, HttpResponse};
    use crate::resource::{LogSink, Severity};

    /// Keeps every log line.
    #[derive(Default)]
    struct Lines(Mutex<Vec<(Severity, String)>>);
    impl LogSink for Lines {
        fn log(&self, severity: Severity, message: &str, _ephemeral: bool) {
            self.0.lock().unwrap().push((severity, message.to_string()));
        }
    }

    fn snapshot(id: &str, version: &str, retained: bool) -> serde_json::Value {
        let mut tags = json!({"datasnap.dataset": "d", "datasnap.version": version});
        if retained {
            tags["datasnap.retained"] = json!("true");
        }
        json!({"id": id, "name": format!("d-v{version}"), "location": "westus", "tags": tags,
            "properties": {"timeCreated": "2024-06-01T00:00:00Z", "creationData": {"createOption": "Copy"}}})
    }

    /// An `Env` whose Azure client answers one snapshot listing with `snapshots`.
    fn env_listing(snapshots: Vec<serde_json::Value>) -> (Env, Arc<Lines>) {
        let (env, lines, _) = env_answering(snapshots, vec![]);
        (env, lines)
    }

    /// An `Env` whose Azure client answers the listing, then `then` in order; also the
    /// requests it saw.
    fn env_answering(
        snapshots: Vec<serde_json::Value>,
        then: Vec<HttpResponse>,
    ) -> (Env, Arc<Lines>, Arc<ScriptedTransport>) {
        let list = HttpResponse::new(200).with_json(&json!({ "value": snapshots }));
        let mut answers = vec![list];
        answers.extend(then);
        let (arm, seen) = client_with(ClientOptions::for_tests(), answers);
        let lines = Arc::new(Lines::default());
        let env = Env::new(
            lines.clone(),
            "urn:pulumi:dev::p::datasnap:index:VersionedSnapshot::d",
            None,
            std::time::Duration::from_secs(60),
            Some(arm),
            CancelToken::new(),
        );
        (env, lines, seen)
    }

    fn warnings(lines: &Lines) -> Vec<String> {
        let lines = lines.0.lock().unwrap();
        lines
            .iter()
            .filter(|(s, _)| *s == Severity::Warning)
            .map(|(_, m)| m.clone())
            .collect()
    }

    const CURRENT: &str =
        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/snapshots/d-v2";

    #[tokio::test]
    async fn apply_reports_a_selected_version_whose_id_does_not_parse() {
        let (env, lines) = env_listing(vec![
            snapshot("not-an-arm-id", "1", true),
            snapshot(CURRENT, "2", false),
        ]);
        let rule = Retention {
            keep_last: Some(1),
            max_age_days: None,
        };
        apply(&env, env.arm().unwrap(), "rg", "d", rule, CURRENT).await;
        let w = warnings(&lines);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("version \"1\"")
                && w[0].contains("not-an-arm-id")
                && w[0].contains("kept"),
            "{}",
            w[0]
        );
    }

    #[tokio::test]
    async fn warn_planned_counts_the_coming_version_as_the_newest() {
        let (env, lines) = env_listing(vec![
            snapshot(CURRENT, "2", true),
            snapshot("/x", "1", false),
        ]);
        let rule = Retention {
            keep_last: Some(1),
            max_age_days: None,
        };
        warn_planned(&env, env.arm().unwrap(), "rg", "d", "10", rule, "urn:me").await;
        assert_eq!(
            warnings(&lines),
            ["retention: creating version \"10\" of dataset \"d\" will prune 1 retained version(s): \"2\" (beyond keepLast=1)"]
        );
    }

    /// With `keepLast: 1`, a bump's preview names the version the replacement releases
    /// (held by this resource's claim) among those the rule will prune.
    #[tokio::test]
    async fn warn_planned_counts_the_version_a_bump_releases() {
        let mut held = snapshot("/held", "2", false);
        held["tags"]["datasnap.claim"] = json!("urn:me");
        let (env, lines) = env_listing(vec![held, snapshot("/other", "1", false)]);
        let rule = Retention {
            keep_last: Some(1),
            max_age_days: None,
        };
        warn_planned(&env, env.arm().unwrap(), "rg", "d", "3", rule, "urn:me").await;
        assert_eq!(
            warnings(&lines),
            ["retention: creating version \"3\" of dataset \"d\" will prune 1 retained version(s): \"2\" (beyond keepLast=1)"]
        );
    }

    const OLD: &str =
        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/snapshots/d-v1";

    /// Issue 8: a keep marker set after the listing (or the version held again) is seen
    /// by the re-read just before the DELETE, and the version is kept.
    #[tokio::test]
    async fn markers_are_re_read_before_each_delete() {
        let rule = Retention {
            keep_last: Some(1),
            max_age_days: None,
        };
        let mut kept = snapshot(OLD, "1", true);
        kept["tags"]["datasnap.keep"] = json!("yes");
        let (env, lines, seen) = env_answering(
            vec![snapshot(OLD, "1", true), snapshot(CURRENT, "2", false)],
            vec![HttpResponse::new(200).with_json(&kept)],
        );
        apply(&env, env.arm().unwrap(), "rg", "d", rule, CURRENT).await;
        assert!(warnings(&lines).is_empty(), "{:?}", warnings(&lines));
        assert!(
            !seen.lines().iter().any(|l| l.starts_with("DELETE")),
            "{:?}",
            seen.lines()
        );
        // Still released and unmarked: pruned (datasnap's lock is looked for first; there
        // is none).
        let no_lock = json!({"error": {"code": "LockNotFound", "message": "The lock 'datasnap-version' could not be found."}});
        let (env, _, seen) = env_answering(
            vec![snapshot(OLD, "1", true), snapshot(CURRENT, "2", false)],
            vec![
                HttpResponse::new(200).with_json(&snapshot(OLD, "1", true)),
                HttpResponse::new(404).with_json(&no_lock),
                HttpResponse::new(200),
            ],
        );
        apply(&env, env.arm().unwrap(), "rg", "d", rule, CURRENT).await;
        assert_eq!(
            seen.lines().last().map(String::as_str),
            Some(format!("DELETE {OLD}").as_str())
        );
        // A lock of datasnap's is lifted, then the version is pruned.
        let (env, _, seen) = env_answering(
            vec![snapshot(OLD, "1", true), snapshot(CURRENT, "2", false)],
            vec![
                HttpResponse::new(200).with_json(&snapshot(OLD, "1", true)),
                HttpResponse::new(200).with_json(
                    &json!({"name": "datasnap-version", "properties": {"level": "CanNotDelete"}}),
                ),
                HttpResponse::new(200),
                HttpResponse::new(200),
            ],
        );
        apply(&env, env.arm().unwrap(), "rg", "d", rule, CURRENT).await;
        let lines = seen.lines();
        let n = lines.len();
        assert_eq!(
            lines[n - 2],
            format!("DELETE {OLD}/providers/Microsoft.Authorization/locks/datasnap-version")
        );
        assert_eq!(lines[n - 1], format!("DELETE {OLD}"));
    }
}
