"""A locked-down dataset version: customer-managed key, no export, no public network, and a
management lock, then a disk restored from it that inherits every one of those settings.

The version's snapshot is encrypted with the customer-managed key of a disk encryption set
(`diskEncryptionSetId`), can be exported by no one (`networkAccessPolicy: DenyAll`), not
over the public network (`publicNetworkAccess: Disabled`), and only with a Microsoft Entra
ID token besides the SAS if the policy is ever loosened (`dataAccessAuthMode:
AzureActiveDirectory`). `lock: true` places a CanNotDelete management lock on it, so Azure
itself refuses to delete it, even with its resource group. Each setting updates in place
(no new version).

    pulumi config set diskEncryptionSetId /subscriptions/<sub>/resourceGroups/<group>/providers/Microsoft.Compute/diskEncryptionSets/<name>
    pulumi up                                 # version 1, locked, and its restored disk
    pulumi config set datasetVersion 2        # a new version (v1 stays, locked)
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
dataset_name = config.get("dataset") or "secure-data"
# The version to take: bump it to snapshot the disk again.
dataset_version = config.get("datasetVersion") or "1"
# The disk encryption set holding the customer-managed key (by default `datasets-cmk` in the
# dataset's resource group). In Azure it must exist, in the disk's region, with access to
# its key vault key; the local emulator checks only the id's shape.
disk_encryption_set_id = config.get("diskEncryptionSetId") or (
    f"/subscriptions/{subscription_id}/resourceGroups/{resource_group_name}"
    f"/providers/Microsoft.Compute/diskEncryptionSets/datasets-cmk"
)
# EncryptionAtRestWithCustomerKey, or EncryptionAtRestWithPlatformAndCustomerKeys for
# double encryption.
encryption_type = config.get("encryptionType") or "EncryptionAtRestWithCustomerKey"

disk_id = (
    f"/subscriptions/{subscription_id}/resourceGroups/{resource_group_name}"
    f"/providers/Microsoft.Compute/disks/{managed_disk_name}"
)

# The version, locked down. Check refuses an invalid combination at preview, naming the
# property (a disk encryption set with a platform key, AllowPrivate without diskAccessId).
snapshot = datasnap.VersionedSnapshot(
    "dataset",
    resource_group_name=resource_group_name,
    dataset=dataset_name,
    version=dataset_version,
    source_disk_id=disk_id,
    metadata={"classification": "confidential"},
    tags={"project": "ai-data-versioning"},
    encryption=datasnap.EncryptionArgs(
        type=encryption_type,
        disk_encryption_set_id=disk_encryption_set_id,
    ),
    network_access_policy="DenyAll",
    public_network_access="Disabled",
    data_access_auth_mode="AzureActiveDirectory",
    # datasnap's CanNotDelete lock `datasnap-version`: needs Microsoft.Authorization/locks/write
    # (Owner or User Access Administrator). datasnap lifts it itself before a retention prune
    # or a deletionPolicy Delete; a version released under Retain keeps it.
    lock=True,
)

# A disk from that version. It sets none of the security properties, so it inherits the
# version's: the same key, DenyAll, public network disabled, Entra ID for data access.
# `version=snapshot.version` (an output) creates it after the version exists.
restored = datasnap.RestoredDisk(
    "restored",
    resource_group_name=resource_group_name,
    dataset=dataset_name,
    version=snapshot.version,
    disk_name=f"{dataset_name}-v{dataset_version}-restored",
    tags={"project": "ai-data-versioning"},
)

pulumi.export("snapshot_id", snapshot.snapshot_id)
pulumi.export("version", snapshot.version)
pulumi.export("restored_disk_id", restored.disk_id)
pulumi.export("restored_version", restored.restored_version)
