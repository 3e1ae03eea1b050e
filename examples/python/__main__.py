"""Snapshot management for AI data versioning, on datasnap.

The seed program took a plain azure-native Snapshot of a managed disk. Here the same disk
becomes a versioned dataset: each `version` is one immutable, tagged Azure snapshot, and
bumping it takes a new snapshot while the old one stays in Azure as a retained version.
"""

import pulumi
import pulumi_datasnap as datasnap

config = pulumi.Config()
# The resource group where the disk resides.
resource_group_name = config.get("resourceGroupName") or "my-resource-group"
# The name of the managed disk that holds the dataset.
managed_disk_name = config.get("managedDiskName") or "my-managed-disk"
# The subscription of the disk: the provider's own by default (its config, or
# ARM_SUBSCRIPTION_ID / AZURE_SUBSCRIPTION_ID), as getClientConfig reports it.
subscription_id = config.get("subscriptionId") or datasnap.get_client_config().subscription_id
# The version of the dataset to snapshot: bump it to take a new version.
dataset_version = config.get("datasetVersion") or "1"

disk_id = (
    f"/subscriptions/{subscription_id}/resourceGroups/{resource_group_name}"
    f"/providers/Microsoft.Compute/disks/{managed_disk_name}"
)

dataset = datasnap.VersionedSnapshot(
    "training-data",
    resource_group_name=resource_group_name,
    dataset="training-data",
    version=dataset_version,
    source_disk_id=disk_id,
    # Lineage, stored as datasnap.meta.* tags on the snapshot.
    metadata={"pipeline": "seed-example"},
    tags={"project": "ai-data-versioning"},
)

# To access the snapshot later, export its id (the ARM id of this version's snapshot).
pulumi.export("snapshot_id", dataset.snapshot_id)
pulumi.export("snapshot_name", dataset.snapshot_name)
pulumi.export("dataset_version", dataset.version)
