//! VersionAlias's Azure operations. An alias is one tag on its version's snapshot, written
//! through ARM's tags `Merge` and removed through `Delete` with its value, so neither the
//! version's own resource (maybe in another stack) nor another alias is ever touched. Who
//! holds an alias is settled after every write ([`settle`]); a protected alias locks its
//! version.

use std::collections::BTreeMap;

use super::types::{alias_id, parse_id, Inputs, Outputs, TOKEN};
use crate::azure::id::ResourceId;
use crate::azure::models::Snapshot;
use crate::azure::{ArmClient, OpContext};
use crate::catalog::aliases::{holders, others, winner, AliasHolder};
use crate::catalog::locks;
use crate::catalog::tags::{alias_key, claim_within, AliasTag};
use crate::catalog::{self, DatasetVersion};
use crate::resource::{During, Env, ResourceError, Unknowns};
use crate::resources::preflight;
use serde_json::{Map, Value as Json};

/// The claim this resource writes in its alias tag.
fn own_claim(env: &Env) -> String {
    claim_within(&env.urn, &env.claim_salt, AliasTag::MAX_CLAIM)
}

/// What the alias is called in messages.
fn named(i: &Inputs) -> String {
    format!("alias {:?} of dataset {:?}", i.alias, i.dataset)
}

/// The resource group's snapshots (the one read every operation starts from).
async fn snapshots(
    arm: &ArmClient,
    inputs: &Inputs,
    ctx: &OpContext,
    op: &str,
) -> Result<Vec<Snapshot>, ResourceError> {
    arm.list_snapshots(&inputs.resource_group_name, ctx)
        .await
        .during(format_args!(
            "{op} (listing the snapshots of resource group {:?})",
            inputs.resource_group_name
        ))
}

/// The version the alias is to point at, or the catalog's "not found" error.
fn target<'a>(
    inputs: &Inputs,
    versions: &'a [DatasetVersion],
) -> Result<(&'a DatasetVersion, ResourceId), ResourceError> {
    let Some(v) = catalog::find(versions, &inputs.version) else {
        return Err(catalog::not_found(
            &inputs.dataset,
            &inputs.resource_group_name,
            &inputs.version,
            versions,
        ));
    };
    let id = ResourceId::parse(&v.snapshot_id, crate::azure::id::ResourceKind::Snapshot)
        .map_err(|e| ResourceError::Bug(format!("a listed snapshot id: {e}")))?;
    Ok((v, id))
}

/// The error for an alias another resource holds.
fn held_by_other(env: &Env, inputs: &Inputs, sub: &str, h: &AliasHolder) -> ResourceError {
    ResourceError::Failed(format!(
        "{} is already held by {} (on version {:?}, snapshot {}); an alias is unique per dataset. Remove it from that program, or move it there; to manage it from this stack instead, run `pulumi import {TOKEN} {} {}`",
        named(inputs),
        h.tag.claim,
        h.version,
        h.snapshot,
        env.resource_name(),
        alias_id(sub, inputs)
    ))
}

/// Writes the alias tag on `id` (Merge: only that key).
async fn write_tag(
    arm: &ArmClient,
    id: &ResourceId,
    key: &str,
    tag: &AliasTag,
    ctx: &OpContext,
) -> Result<(), crate::azure::AzureError> {
    let t: BTreeMap<String, String> = [(key.to_string(), tag.encode())].into();
    arm.merge_tags(id, &t, ctx).await.map(|_| ())
}

/// Removes the alias tag from `h` only while it still holds `h`'s value (ARM's tags
/// `Delete` matches the value), so a newer writer's tag stays.
async fn remove_tag(
    arm: &ArmClient,
    h: &AliasHolder,
    ctx: &OpContext,
) -> Result<(), crate::azure::AzureError> {
    let t: BTreeMap<String, String> = [(h.key.clone(), h.tag.encode())].into();
    match arm.delete_tags(&h.snapshot, &t, ctx).await {
        Err(e) if e.is_not_found() => Ok(()),
        other => other.map(|_| ()),
    }
}

/// After a write: who holds the alias now. This resource keeps it when its claim wins by
/// [`winner`]; otherwise it removes its own tag and fails, naming the holder.
async fn settle(
    env: &Env,
    arm: &ArmClient,
    inputs: &Inputs,
    claim: &str,
    ctx: &OpContext,
) -> Result<(), ResourceError> {
    let op = format!("write of {}", named(inputs));
    let found = holders(
        &snapshots(arm, inputs, ctx, &op).await?,
        &inputs.dataset,
        &inputs.alias,
    );
    let ours: Vec<&AliasHolder> = found.iter().filter(|h| h.tag.claim == claim).collect();
    match winner(&found) {
        Some(w) if w.tag.claim == claim => Ok(()),
        Some(w) => {
            for h in ours {
                remove_tag(arm, h, ctx).await.during(&op)?;
            }
            Err(held_by_other(env, inputs, arm.subscription_id(), w))
        }
        // Our tag was overwritten on the same key by another writer: theirs stands.
        None => Err(ResourceError::Failed(format!(
            "{op} lost a race: another writer replaced it while this stack wrote it; run `pulumi up` again to see who holds it"
        ))),
    }
}

/// During preview (the checks of [`preflight`], on the preview's shared listing): the
/// credentials; the resource group and the version, which warn when missing (or fail under
/// `strict`); an alias another resource holds, which always fails, as `up` would.
pub async fn plan_create(
    env: &Env,
    news: &Inputs,
    unknowns: &Unknowns,
) -> Result<Map<String, Json>, ResourceError> {
    let group = &news.resource_group_name;
    let Some((arm, ctx)) = preflight::begin(env, group, unknowns).await? else {
        return Ok(Map::new());
    };
    let known = |k: &str| !unknowns.contains(k);
    if !(known("resourceGroupName") && known("dataset") && known("alias")) {
        return Ok(Map::new());
    }
    let listed = env.preflight.snapshots(arm, group, &ctx).await?;
    let found = holders(&listed, &news.dataset, &news.alias);
    if let Some(h) = others(&found, &own_claim(env)).first() {
        return Err(ResourceError::Failed(format!(
            "preview check: {}",
            held_by_other(env, news, arm.subscription_id(), h)
        )));
    }
    if known("version") {
        let versions = catalog::versions(&news.dataset, group, &listed);
        if catalog::find(&versions, &news.version).is_none() {
            preflight::missing(
                env,
                "version",
                format!(
                    "version {:?} of dataset {:?} does not exist in resource group {group:?}",
                    news.version, news.dataset
                ),
            )?;
        }
    }
    Ok(Map::new())
}

pub async fn create(env: &Env, inputs: Inputs) -> Result<(String, Outputs), ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let claim = own_claim(env);
    let op = format!("create of {}", named(&inputs));
    let snaps = snapshots(arm, &inputs, &ctx, &op).await?;
    let versions = catalog::versions(&inputs.dataset, &inputs.resource_group_name, &snaps);
    let (version, snapshot) = target(&inputs, &versions)?;
    let found = holders(&snaps, &inputs.dataset, &inputs.alias);
    if let Some(h) = others(&found, &claim).first() {
        return Err(held_by_other(env, &inputs, arm.subscription_id(), h));
    }
    move_to(env, arm, &inputs, &claim, &snapshot, &found, &ctx).await?;
    env.info(&format!(
        "{} points at version {:?} ({})",
        named(&inputs),
        version.version,
        snapshot
    ));
    Ok((
        alias_id(arm.subscription_id(), &inputs),
        Outputs {
            snapshot_id: version.snapshot_id.clone(),
            found_claim: Some(claim),
            inputs,
        },
    ))
}

/// Points the alias at `snapshot`: the tag there first, then (when the write holds) the
/// lock of a protected alias, then the tags this resource left elsewhere are removed.
async fn move_to(
    env: &Env,
    arm: &ArmClient,
    inputs: &Inputs,
    claim: &str,
    snapshot: &ResourceId,
    found: &[AliasHolder],
    ctx: &OpContext,
) -> Result<(), ResourceError> {
    let op = format!("write of {} on snapshot {snapshot}", named(inputs));
    let tag = AliasTag {
        claim: claim.to_string(),
        protected: inputs.is_protected(),
    };
    // The key keeps the spelling already on the snapshot, if any.
    let key = found
        .iter()
        .find(|h| h.snapshot.same_resource(snapshot))
        .map(|h| h.key.clone())
        .unwrap_or_else(|| alias_key(&inputs.alias));
    write_tag(arm, snapshot, &key, &tag, ctx)
        .await
        .during(&op)?;
    settle(env, arm, inputs, claim, ctx).await?;
    let lock = locks::alias_lock(&inputs.alias);
    if inputs.is_protected() {
        let why = format!("{} points at this version and is protected", named(inputs));
        locks::place(arm, snapshot, &lock, &why, ctx).await?;
    }
    for h in found.iter().filter(|h| !h.snapshot.same_resource(snapshot)) {
        if h.tag.claim == claim {
            locks::lift(arm, &h.snapshot, &lock, ctx).await?;
            remove_tag(arm, h, ctx).await.during(format_args!(
                "move of {} (removing it from version {:?})",
                named(inputs),
                h.version
            ))?;
        }
    }
    Ok(())
}

pub async fn read(
    env: &Env,
    id: &str,
    inputs: Option<Inputs>,
    state: Option<Outputs>,
) -> Result<Option<(Inputs, Outputs)>, ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let (group, dataset, alias) = parse_id(id)?;
    let mut looked_up = inputs.clone().unwrap_or(Inputs {
        resource_group_name: group,
        dataset,
        alias,
        ..Inputs::default()
    });
    let op = format!("refresh of {}", named(&looked_up));
    let found = holders(
        &snapshots(arm, &looked_up, &ctx, &op).await?,
        &looked_up.dataset,
        &looked_up.alias,
    );
    let own = own_claim(env);
    let recorded = state.as_ref().and_then(|s| s.found_claim.clone());
    // Our tag (or, on import, the one there is); an alias held by someone else since is
    // reported and left to them.
    let holder = found
        .iter()
        .find(|h| h.tag.claim == own || Some(&h.tag.claim) == recorded.as_ref())
        .or_else(|| match state {
            None => winner(&found),
            Some(_) => None,
        });
    let Some(h) = holder else {
        if let Some(w) = winner(&found) {
            env.warn(&format!(
                "{} is now held by {} (version {:?}); it leaves this stack",
                named(&looked_up),
                w.tag.claim,
                w.version
            ));
        }
        return Ok(None);
    };
    looked_up.version = h.version.clone();
    looked_up.protected = Some(h.tag.protected);
    if h.tag.protected {
        let lock = locks::alias_lock(&looked_up.alias);
        match arm.get_lock(&h.snapshot, &lock, &ctx).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                env.warn(&format!("snapshot {} lost the lock of protected {} outside datasnap: `pulumi up` places it again", h.snapshot, named(&looked_up)));
                looked_up.protected = Some(false);
            }
            Err(e) if e.is_cancelled() => return Err(e.into()),
            Err(e) => env.warn(&format!("{op}: could not read the lock ({e})")),
        }
    }
    let outputs = Outputs {
        inputs: looked_up.clone(),
        snapshot_id: h.snapshot.to_string(),
        found_claim: Some(h.tag.claim.clone()),
    };
    Ok(Some((looked_up, outputs)))
}

pub async fn update(
    env: &Env,
    _id: &str,
    olds: Outputs,
    news: Inputs,
) -> Result<Outputs, ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let claim = own_claim(env);
    let op = format!("update of {}", named(&news));
    let snaps = snapshots(arm, &news, &ctx, &op).await?;
    let found = holders(&snaps, &news.dataset, &news.alias);
    // Ours: our claim, or the one an import found (taken over by this write).
    let recorded = olds.found_claim.as_deref().unwrap_or(&claim);
    let theirs: Vec<&AliasHolder> = found
        .iter()
        .filter(|h| h.tag.claim != claim && h.tag.claim != recorded)
        .collect();
    if let Some(h) = theirs.first() {
        return Err(held_by_other(env, &news, arm.subscription_id(), h));
    }
    let versions = catalog::versions(&news.dataset, &news.resource_group_name, &snaps);
    let (version, snapshot) = target(&news, &versions)?;
    // An import takes over the tag it found (another claim): it is removed where it is
    // not the target, and overwritten with this resource's claim where it is.
    if recorded != claim {
        for h in found
            .iter()
            .filter(|h| h.tag.claim == recorded && !h.snapshot.same_resource(&snapshot))
        {
            remove_tag(arm, h, &ctx).await.during(&op)?;
        }
    }
    move_to(env, arm, &news, &claim, &snapshot, &found, &ctx).await?;
    if olds.inputs.is_protected() && !news.is_protected() {
        locks::lift(arm, &snapshot, &locks::alias_lock(&news.alias), &ctx).await?;
        env.info(&format!(
            "{} is no longer protected: its lock is lifted",
            named(&news)
        ));
    }
    if olds.inputs.version != news.version {
        env.info(&format!(
            "{} moved from version {:?} to version {:?}",
            named(&news),
            olds.inputs.version,
            version.version
        ));
    }
    Ok(Outputs {
        snapshot_id: version.snapshot_id.clone(),
        found_claim: Some(claim),
        inputs: news,
    })
}

pub async fn delete(env: &Env, _id: &str, olds: Outputs) -> Result<(), ResourceError> {
    let inputs = &olds.inputs;
    if inputs.is_protected() {
        return Err(ResourceError::Failed(format!(
            "{} is protected: it cannot be deleted. Set `protected: false` and run `pulumi up` first, then remove it",
            named(inputs)
        )));
    }
    let arm = env.arm()?;
    let ctx = env.op();
    let claim = own_claim(env);
    let op = format!("delete of {}", named(inputs));
    let found = holders(
        &snapshots(arm, inputs, &ctx, &op).await?,
        &inputs.dataset,
        &inputs.alias,
    );
    let recorded = olds.found_claim.as_deref().unwrap_or(&claim);
    for h in found
        .iter()
        .filter(|h| h.tag.claim == claim || h.tag.claim == recorded)
    {
        locks::lift(arm, &h.snapshot, &locks::alias_lock(&inputs.alias), &ctx).await?;
        remove_tag(arm, h, &ctx).await.during(&op)?;
    }
    env.info(&format!("{} is deleted", named(inputs)));
    Ok(())
}
