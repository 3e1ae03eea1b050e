"""A test program driven by config: `resources` is a JSON list of VersionedSnapshot (and,
where present, RestoredDisk, VersionAlias and VersionExport) declarations, so one program
serves every lifecycle step."""

import json

import pulumi
import pulumi_datasnap as datasnap

config = pulumi.Config()
specs = json.loads(config.get("resources") or "[]")

made = {}
for spec in specs:
    spec = dict(spec)
    kind = spec.pop("kind", "VersionedSnapshot")
    name = spec.pop("name")
    # `after`: names of resources declared earlier that this one depends on (a program
    # would pass their outputs, such as `version=v2.version`).
    after = [made[n] for n in spec.pop("after", [])]
    opts = pulumi.ResourceOptions(**spec.pop("options", {}), depends_on=after)
    if spec.pop("secret_tag_values", False):
        spec["tags"] = {k: pulumi.Output.secret(v) for k, v in spec.get("tags", {}).items()}
    if kind == "VersionedSnapshot":
        r = datasnap.VersionedSnapshot(name, opts=opts, **spec)
        pulumi.export(name, r.snapshot_id)
    elif kind == "RestoredDisk":
        r = datasnap.RestoredDisk(name, opts=opts, **spec)
        pulumi.export(name, r.disk_id)
        pulumi.export(f"{name}-version", r.restored_version)
    elif kind == "VersionAlias":
        r = datasnap.VersionAlias(name, opts=opts, **spec)
        pulumi.export(name, r.snapshot_id)
    elif kind == "VersionExport":
        r = datasnap.VersionExport(name, opts=opts, **spec)
        pulumi.export(name, r.access_sas)
        pulumi.export(f"{name}-expires", r.expires_at)
        pulumi.export(f"{name}-version", r.exported_version)
    else:
        raise ValueError(f"unknown kind {kind}")
    made[name] = r
