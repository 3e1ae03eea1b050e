"""Dataset versioning with datasnap: versions, lineage, retention, listing and rollback.

Every `pulumi up` with a new `datasetVersion` takes a new, immutable snapshot of the dataset
disk. The old version stays in Azure as a retained version, and `keepLast` prunes the oldest
retained versions after each new one is created. Setting `restoreVersion` rolls back: it
creates a managed disk from that version's snapshot.

    pulumi config set datasetVersion 2       # take version 2 (version 1 is retained)
    pulumi config set keepLast 2             # keep the two newest versions
    pulumi config set restoreVersion 1       # restore version 1 to a new disk
    pulumi config rm restoreVersion          # remove the restored disk again
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

# Every version of the dataset in Azure, oldest first. Depending on the snapshot makes the
# listing run after this version is created (and after retention pruned old ones).
versions = datasnap.get_versions_output(
    resource_group_name=resource_group_name,
    dataset=dataset_name,
    opts=pulumi.InvokeOutputOptions(depends_on=[snapshot]),
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
