"""A test program driven by config: `resources` is a JSON list of VersionedSnapshot (and,
where present, RestoredDisk) declarations, so one program serves every lifecycle step."""

import json

import pulumi
import pulumi_datasnap as datasnap

config = pulumi.Config()
specs = json.loads(config.get("resources") or "[]")

for spec in specs:
    spec = dict(spec)
    kind = spec.pop("kind", "VersionedSnapshot")
    name = spec.pop("name")
    opts = pulumi.ResourceOptions(**spec.pop("options", {}))
    if spec.pop("secret_tag_values", False):
        spec["tags"] = {k: pulumi.Output.secret(v) for k, v in spec.get("tags", {}).items()}
    if kind == "VersionedSnapshot":
        r = datasnap.VersionedSnapshot(name, opts=opts, **spec)
        pulumi.export(name, r.snapshot_id)
    elif kind == "RestoredDisk":
        r = datasnap.RestoredDisk(name, opts=opts, **spec)
        pulumi.export(name, r.disk_id)
    else:
        raise ValueError(f"unknown kind {kind}")
