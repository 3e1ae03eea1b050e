"""A dataset version per pull request: the program the CI recipe deploys.

The workflow (.github/workflows/datasnap.yml) previews it on every pull request and runs
`pulumi up` on the default branch. Bumping `datasetVersion` in Pulumi.<stack>.yaml takes a
new, immutable snapshot of the disk; the previous version stays in Azure as a retained
version. The credentials come from the environment only (ARM_USE_OIDC, ARM_CLIENT_ID,
ARM_TENANT_ID, ARM_SUBSCRIPTION_ID), as azure-native programs have them in CI.
"""

import pulumi
import pulumi_datasnap as datasnap

config = pulumi.Config()
# The resource group where the disk resides.
resource_group_name = config.require("resourceGroupName")
# The name of the managed disk that holds the dataset.
managed_disk_name = config.require("managedDiskName")
# The version of the dataset to snapshot: bump it (in a pull request) to take a new version.
dataset_version = config.require("datasetVersion")
# The subscription of the disk: the provider's own (ARM_SUBSCRIPTION_ID), as
# getClientConfig reports it.
subscription_id = datasnap.get_client_config().subscription_id

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
    metadata={"pipeline": "github-actions"},
    tags={"project": "ai-data-versioning"},
)

pulumi.export("snapshot_id", dataset.snapshot_id)
pulumi.export("snapshot_name", dataset.snapshot_name)
pulumi.export("dataset_version", dataset.version)
