"""Dataset versioning with datasnap: versions, lineage, retention, listing, aliases, rollback
and export links.

Every `pulumi up` with a new `datasetVersion` takes a new, immutable snapshot of the dataset
disk. The old version stays in Azure as a retained version, and `keepLast` prunes the oldest
retained versions after each new one is created. Setting `restoreVersion` rolls back: it
creates a managed disk from that version's snapshot.

`productionVersion` promotes a version (this run's or an older retained one) to the alias
`production`, a movable pointer stored on the version's snapshot. By default the alias is
protected: Azure itself locks that version against deletion, and the alias cannot move or be
removed until `protectProduction: false` has been applied by an earlier `up`. `restoreAlias`
restores the version an alias points at; `exportAlias` (or `exportVersion`) grants a
time-limited, read-only SAS link to a version, exported as the secret `export_url`.

    pulumi config set datasetVersion 2       # take version 2 (version 1 is retained)
    pulumi config set keepLast 2             # keep the two newest versions
    pulumi config set restoreVersion 1       # restore version 1 to a new disk
    pulumi config rm restoreVersion          # remove the restored disk again
    pulumi config set productionVersion 2    # promote version 2 to `production` (locked)
    pulumi config set restoreAlias production    # a disk from what `production` points at
    pulumi config set exportAlias production     # a read SAS to it: `export_url` (secret)
    pulumi config set protectProduction false    # then `up`, before moving or removing it
"""


import pulumi
import pulumi_datasnap as datasnap

config = pulumi.Config()
# Where the dataset disk lives (the emulator's seeded defaults).
resource_group_name = config.get("resourceGroupName") or "datasets-rg"
managed_disk_name = config.get("managedDiskName") or "dataset-disk"
# The disk's subscription: this program's config, else the provider's own (its config or
# ARM_SUBSCRIPTION_ID / AZURE_SUBSCRIPTION_ID), as getClientConfig reports it.
subscription_id = config.get("subscriptionId") or datasnap.get_client_config().subscription_id
# The dataset's name, used for the `datasnap.dataset` tag and the snapshot names.
dataset_name = config.get("dataset") or "training-data"
# The version to take: bump it to snapshot the disk again.
dataset_version = config.get("datasetVersion") or "1"
# How many versions to keep (unset: keep every version).
keep_last = config.get_int("keepLast")
# A version to restore to a new disk ("latest" works too; unset: no restored disk).
restore_version = config.get("restoreVersion")
# Lineage: where this version's data came from.
git_commit = config.get("gitCommit") or "0000000"
# The version the alias `production` points at (unset: no alias).
production_version = config.get("productionVersion")
# Whether the alias is protected: its version gets a CanNotDelete management lock, and the
# alias can be neither moved nor removed until `false` has been applied first.
protect_production = config.get_bool("protectProduction")
if protect_production is None:
    protect_production = True
# An alias to restore to the disk `<dataset>-<alias>` (unset: none).
restore_alias = config.get("restoreAlias")
# An alias, or a version, to export as a read-only SAS link (unset: no export).
export_alias = config.get("exportAlias")
export_version = config.get("exportVersion")
if export_alias and export_version:
    raise pulumi.RunError("set exportAlias or exportVersion, not both")
# How long each export grant lasts (at most 5184000 s, 60 days); `up` renews an expired one.
export_duration = config.get_int("exportDurationSeconds") or 3600

disk_id = (
    f"/subscriptions/{subscription_id}/resourceGroups/{resource_group_name}"
    f"/providers/Microsoft.Compute/disks/{managed_disk_name}"
)

# One version of the dataset: one tagged Azure snapshot. Changing `version` replaces it
# (the new snapshot first); under the default deletionPolicy "Retain" the old one stays.
snapshot = datasnap.VersionedSnapshot(
    "dataset",
    resource_group_name=resource_group_name,
    dataset=dataset_name,
    version=dataset_version,
    source_disk_id=disk_id,
    # Lineage metadata, stored as `datasnap.meta.*` tags and updatable in place.
    metadata={
        "gitCommit": git_commit,
        "pipelineRunId": f"run-{dataset_version}",
        "parentVersion": config.get("parentVersion") or "none",
    },
    tags={"project": "ai-data-versioning"},
    # Prune the oldest retained versions beyond `keepLast` after each new version.
    retention=datasnap.RetentionPolicyArgs(keep_last=keep_last) if keep_last else None,
)

# The alias `production`: a tag on the chosen version's snapshot. Changing
# `productionVersion` moves it in place (once it is unprotected). It may name this run's
# version or an older one, so it waits for the snapshot either way.
production = None
if production_version:
    production = datasnap.VersionAlias(
        "production",
        resource_group_name=resource_group_name,
        dataset=dataset_name,
        alias="production",
        version=production_version,
        protected=protect_production,
        opts=pulumi.ResourceOptions(depends_on=[snapshot]),
    )
    pulumi.export("production_version", production.version)
    pulumi.export("production_snapshot_id", production.snapshot_id)

# What the readers below wait for: this run's version and, when set, the alias's move.
after = [snapshot] + ([production] if production else [])

# Every version of the dataset in Azure, oldest first. Depending on the snapshot makes the
# listing run after this version is created (and after retention pruned old ones).
versions = datasnap.get_versions_output(
    resource_group_name=resource_group_name,
    dataset=dataset_name,
    opts=pulumi.InvokeOutputOptions(depends_on=after),
)

pulumi.export("snapshot_id", snapshot.snapshot_id)
pulumi.export("version", snapshot.version)
pulumi.export("latest_version", versions.latest)
pulumi.export(
    "versions",
    versions.versions.apply(
        lambda vs: [
            {
                "version": v.version,
                "snapshot_id": v.snapshot_id,
                "time_created": v.time_created,
                "retained": v.retained,
                "metadata": dict(v.metadata),
                "aliases": list(v.aliases),
            }
            for v in vs
        ]
    ),
)

# The rollback: a managed disk created from the chosen version's snapshot. Changing
# `restoreVersion` replaces the disk; removing it deletes the disk (never the snapshot).
if restore_version:
    restored = datasnap.RestoredDisk(
        "restored",
        resource_group_name=resource_group_name,
        dataset=dataset_name,
        version=restore_version,
        disk_name=f"{dataset_name}-restored",
        tags={"project": "ai-data-versioning", "restoredFrom": restore_version},
        # After this run's version exists, so that "latest" can mean it.
        opts=pulumi.ResourceOptions(depends_on=[snapshot]),
    )
    pulumi.export("restored_disk_id", restored.disk_id)
    pulumi.export("restored_version", restored.restored_version)
    pulumi.export("restored_snapshot_id", restored.restored_snapshot_id)

# A disk from the version an alias points at when the disk is created (recorded in
# `restored_alias_version`); a later move of the alias leaves this disk as it is.
if restore_alias:
    restored_alias = datasnap.RestoredDisk(
        "restored-alias",
        resource_group_name=resource_group_name,
        dataset=dataset_name,
        alias=restore_alias,
        disk_name=f"{dataset_name}-{restore_alias}",
        tags={"project": "ai-data-versioning", "restoredFrom": restore_alias},
        opts=pulumi.ResourceOptions(depends_on=after),
    )
    pulumi.export("restored_alias_disk_id", restored_alias.disk_id)
    pulumi.export("restored_alias_version", restored_alias.restored_version)

# A read-only SAS link to a version (Azure's beginGetAccess), open until the export is
# removed; `up` grants it again once it has expired. `export_url` is always a secret.
if export_alias or export_version:
    export = datasnap.VersionExport(
        "export",
        resource_group_name=resource_group_name,
        dataset=dataset_name,
        alias=export_alias,
        version=export_version,
        duration_seconds=export_duration,
        opts=pulumi.ResourceOptions(depends_on=after),
    )
    pulumi.export("export_url", export.access_sas)
    pulumi.export("export_expires_at", export.expires_at)
    pulumi.export("exported_version", export.exported_version)
