"""Lists a dataset's versions with the functions, in preview and up alike."""

import pulumi
import pulumi_datasnap as datasnap

config = pulumi.Config()
rg = config.require("resourceGroupName")
dataset = config.require("dataset")

listed = datasnap.get_versions(resource_group_name=rg, dataset=dataset)
pulumi.export("versions", [v.version for v in listed.versions])
pulumi.export("latest", listed.latest)
pulumi.export("retained", [v.version for v in listed.versions if v.retained])
pulumi.export("metadata", {v.version: v.metadata for v in listed.versions})
latest = datasnap.get_version(resource_group_name=rg, dataset=dataset, version="latest")
pulumi.export("latestSnapshotId", latest.snapshot_id)
pulumi.export("aliases", {v.version: v.aliases for v in listed.versions})
alias = config.get("alias")
if alias:
    pulumi.export("aliasVersion", datasnap.get_version(resource_group_name=rg, dataset=dataset, alias=alias).version)
