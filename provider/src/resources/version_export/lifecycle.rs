//! VersionExport's Azure operations: resolve the version (by version, `latest` or alias),
//! mark it with this export's tag, grant read access, and on delete revoke it unless another
//! export still holds the snapshot's (shared) access. The SAS URL is returned as an output
//! only; it never appears in a message or a log line.

use std::collections::BTreeMap;

use azure_core::time::{to_rfc3339, Duration, OffsetDateTime};

use super::rules::now;
use super::types::{export_id, Inputs, Outputs};
use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::models::Snapshot;
use crate::azure::{ArmClient, OpContext};
use crate::catalog::tags::{claim_for, export_key, VersionTags};
use crate::catalog::{self, DatasetVersion};
use crate::resource::{During, Env, ResourceError, Unknowns};
use crate::resources::preflight;
use serde_json::{Map, Value as Json};

/// This export's tag on the version it reads.
fn own_key(env: &Env) -> String {
    export_key(&claim_for(&env.urn, &env.claim_salt))
}

/// The version the inputs name.
async fn resolve(
    env: &Env,
    arm: &ArmClient,
    inputs: &Inputs,
) -> Result<DatasetVersion, ResourceError> {
    let (rg, d) = (&inputs.resource_group_name, &inputs.dataset);
    let versions = catalog::list(env, arm, rg, d).await?;
    catalog::resolve(
        &versions,
        d,
        rg,
        inputs.version.as_deref(),
        inputs.alias.as_deref(),
    )
    .cloned()
}

/// During preview: the credentials, the resource group, and the version or alias to export
/// (missing: a warning, or an error under `strict`). Nothing is granted.
pub async fn plan_create(
    env: &Env,
    news: &Inputs,
    unknowns: &Unknowns,
) -> Result<Map<String, Json>, ResourceError> {
    let group = &news.resource_group_name;
    let Some((arm, ctx)) = preflight::begin(env, group, unknowns).await? else {
        return Ok(Map::new());
    };
    if ["resourceGroupName", "dataset", "version", "alias"]
        .iter()
        .any(|k| unknowns.contains(k))
    {
        return Ok(Map::new());
    }
    let listed = env.preflight.snapshots(arm, group, &ctx).await?;
    let versions = catalog::versions(&news.dataset, group, &listed);
    let (version, alias) = (news.version.as_deref(), news.alias.as_deref());
    if let Err(e) = catalog::resolve(&versions, &news.dataset, group, version, alias) {
        let property = if alias.is_some() { "alias" } else { "version" };
        preflight::missing(env, property, e.to_string())?;
    }
    Ok(Map::new())
}

fn snapshot_of(v: &DatasetVersion) -> Result<ResourceId, ResourceError> {
    ResourceId::parse(&v.snapshot_id, ResourceKind::Snapshot)
        .map_err(|e| ResourceError::Bug(format!("a listed snapshot id: {e}")))
}

/// Marks the version with this export's tag (until `expires`), then grants read access.
/// If the grant fails, the tag is taken back.
async fn grant(
    env: &Env,
    arm: &ArmClient,
    id: &ResourceId,
    seconds: i64,
    ctx: &OpContext,
) -> Result<(String, String), ResourceError> {
    let expires = to_rfc3339(&(now() + Duration::seconds(seconds)));
    let key = own_key(env);
    let op = format!("export of snapshot {id}");
    let tag: BTreeMap<String, String> = [(key.clone(), expires.clone())].into();
    arm.merge_tags(id, &tag, ctx)
        .await
        .during(format_args!("{op} (marking it as exported)"))?;
    match arm.grant_read_access(id, seconds, ctx).await {
        Ok(sas) => Ok((sas, expires)),
        Err(e) => {
            let _ = arm.delete_tags(id, &tag, ctx).await;
            Err(e).during(format_args!("{op} (beginGetAccess for {seconds} s)"))
        }
    }
}

pub async fn create(env: &Env, inputs: Inputs) -> Result<(String, Outputs), ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let version = resolve(env, arm, &inputs).await?;
    let id = snapshot_of(&version)?;
    let (sas, expires) = grant(env, arm, &id, inputs.seconds(), &ctx).await?;
    env.info(&format!(
        "granted read access to version {:?} of dataset {:?} (snapshot {}) until {expires}",
        version.version, inputs.dataset, id.name
    ));
    Ok((
        export_id(&version.snapshot_id),
        Outputs {
            snapshot_id: version.snapshot_id.clone(),
            exported_version: version.version.clone(),
            access_sas: sas,
            expires_at: expires,
            inputs,
        },
    ))
}

/// The snapshot an export's id names.
fn recorded_snapshot(id: &str) -> Result<ResourceId, ResourceError> {
    let arm_id = id.strip_suffix("#export").unwrap_or(id);
    ResourceId::parse(arm_id, ResourceKind::Snapshot).map_err(|e| ResourceError::Invalid {
        property: "id".into(),
        reason: format!("a VersionExport's id is its snapshot's ARM id followed by `#export`: {e}"),
    })
}

pub async fn read(
    env: &Env,
    id: &str,
    inputs: Option<Inputs>,
    state: Option<Outputs>,
) -> Result<Option<(Inputs, Outputs)>, ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let rid = recorded_snapshot(id)?;
    let Some(state) = state else {
        return Err(ResourceError::Invalid {
            property: "id".into(),
            reason: "a VersionExport cannot be imported: its SAS URL exists only when it is granted. Declare the export in the program and run `pulumi up` to grant a new one".into(),
        });
    };
    let found = arm.get::<Snapshot>(&rid, &ctx).await;
    let Some(snap) = found.during(format_args!("refresh of the export of snapshot {rid}"))? else {
        return Ok(None);
    };
    let mut outputs = state;
    if let Some(i) = inputs {
        outputs.inputs = i;
    }
    let ours = VersionTags::decode(&snap.tags)
        .map(|t| {
            t.exports
                .keys()
                .any(|k| k.eq_ignore_ascii_case(&own_key(env)))
        })
        .unwrap_or(false);
    if !snap.access_open() || !ours {
        // Ended (expired, or revoked outside this export): drift that `up` renews.
        outputs.expires_at = String::new();
    }
    Ok(Some((outputs.inputs.clone(), outputs)))
}

pub async fn update(
    env: &Env,
    _id: &str,
    olds: Outputs,
    news: Inputs,
) -> Result<Outputs, ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let id = recorded_snapshot(&olds.snapshot_id)?;
    let (sas, expires) = grant(env, arm, &id, news.seconds(), &ctx).await?;
    env.info(&format!(
        "renewed read access to version {:?} (snapshot {}) until {expires}",
        olds.exported_version, id.name
    ));
    Ok(Outputs {
        access_sas: sas,
        expires_at: expires,
        inputs: news,
        ..olds
    })
}

pub async fn delete(env: &Env, _id: &str, olds: Outputs) -> Result<(), ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let id = recorded_snapshot(&olds.snapshot_id)?;
    let op = format!("revoke of the export of snapshot {id}");
    let Some(snap) = arm.get::<Snapshot>(&id, &ctx).await.during(&op)? else {
        return Ok(());
    };
    let key = own_key(env);
    let tags = VersionTags::decode(&snap.tags).unwrap_or_default();
    let mine: BTreeMap<String, String> = tags
        .exports
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(&key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut others = tags.clone();
    others.exports.retain(|k, _| !k.eq_ignore_ascii_case(&key));
    if others.export_open(OffsetDateTime::now_utc()) {
        env.info(&format!(
            "the export of version {:?} ends, but another export still reads snapshot {}: Azure's access to it (one per snapshot) stays open until that export ends",
            olds.exported_version, id.name
        ));
    } else if snap.access_open() {
        arm.revoke_access(&id, &ctx).await.during(&op)?;
        env.info(&format!(
            "revoked read access to version {:?} (snapshot {})",
            olds.exported_version, id.name
        ));
    }
    if !mine.is_empty() {
        match arm.delete_tags(&id, &mine, &ctx).await {
            Err(e) if !e.is_not_found() => return Err(e).during(&op),
            _ => {}
        }
    }
    Ok(())
}
