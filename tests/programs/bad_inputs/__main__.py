"""A program with bad inputs: preview must fail and name each bad property."""

import pulumi_datasnap as datasnap

datasnap.VersionedSnapshot(
    "bad",
    resource_group_name="rg",
    dataset="training-data",
    version="1",
    snapshot_name="not a valid name!",
    source_disk_id="/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/data",
)
