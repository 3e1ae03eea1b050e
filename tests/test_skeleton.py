"""The walking skeleton: `pulumi preview` of Python programs through the Rust provider,
the schema the binary serves, and the generated SDK (issue 2)."""

import filecmp
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import BIN_DIR, ROOT, pulumi_bin

SUB = "00000000-0000-0000-0000-000000000001"
# An offline preview: no Azure to check against (previewChecks off).
ENV = {"ARM_SUBSCRIPTION_ID": SUB, "ARM_TENANT_ID": "00000000-0000-0000-0000-0000000000aa", "ARM_CLIENT_ID": "app", "ARM_CLIENT_SECRET": "not-used-in-preview",
       "DATASNAP_PREVIEW_CHECKS": "off"}


def test_preview_of_the_example_plans_one_versioned_snapshot(make_stack):
    st = make_stack(ROOT / "examples" / "python", env=ENV)
    st.config("resourceGroupName", "datasets-rg")
    st.config("managedDiskName", "dataset-disk")
    st.config("subscriptionId", SUB)
    st.config("datasetVersion", "3")
    plan = st.preview_json()
    creates = [s for s in plan["steps"] if s["op"] == "create" and s["newState"]["type"] == "datasnap:index:VersionedSnapshot"]
    assert len(creates) == 1, json.dumps(plan["steps"], indent=1)
    inputs = creates[0]["newState"]["inputs"]
    assert inputs["resourceGroupName"] == "datasets-rg"
    assert inputs["dataset"] == "training-data"
    assert inputs["version"] == "3"
    assert inputs["sourceDiskId"] == f"/subscriptions/{SUB}/resourceGroups/datasets-rg/providers/Microsoft.Compute/disks/dataset-disk"
    assert inputs["metadata"] == {"pipeline": "seed-example"}
    assert inputs["tags"] == {"project": "ai-data-versioning"}
    # Defaults applied by Check.
    assert re.fullmatch(r"training-data-v3-[0-9a-f]{6}", inputs["snapshotName"]), inputs["snapshotName"]
    assert inputs["incremental"] is True
    assert inputs["deletionPolicy"] == "Retain"
    # Nothing else is planned but the stack and the provider.
    others = [s for s in plan["steps"] if s["newState"]["type"] not in ("datasnap:index:VersionedSnapshot", "pulumi:pulumi:Stack", "pulumi:providers:datasnap")]
    assert others == []


def test_bad_inputs_fail_preview_naming_each_property(make_stack):
    st = make_stack(ROOT / "tests" / "programs" / "bad_inputs", env=ENV)
    p = st.run("preview", "--stack", st.name, check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0, out
    assert "snapshotName" in out and "not a valid name!" in out, out
    assert "sourceDiskId" in out and "managed disk" in out, out


def test_get_schema_from_the_binary_equals_schema_json(tmp_path):
    env = dict(os.environ, PULUMI_HOME=str(tmp_path / "home"), PULUMI_SKIP_UPDATE_CHECK="true")
    p = subprocess.run([pulumi_bin(), "package", "get-schema", str(BIN_DIR / "pulumi-resource-datasnap")], capture_output=True, text=True, env=env, check=True)
    assert json.loads(p.stdout) == json.loads((ROOT / "schema.json").read_text())


def _tree(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _tracked(d: Path) -> list[str]:
    """The files git tracks under `d`: a `pip install ./sdk/python` writes build/ and
    *.egg-info/ beside the sources, and those are no part of the SDK."""
    out = subprocess.run(["git", "ls-files", "-z", "--", str(d)], cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return sorted(str((ROOT / f).relative_to(d)) for f in out.split("\0") if f)


def test_committed_sdk_is_what_gen_sdk_produces(tmp_path):
    env = dict(os.environ, PULUMI_HOME=str(tmp_path / "home"), PULUMI_SKIP_UPDATE_CHECK="true")
    out = tmp_path / "sdk"
    subprocess.run([pulumi_bin(), "package", "gen-sdk", str(ROOT / "schema.json"), "--language", "python", "--out", str(out)], capture_output=True, text=True, env=env, check=True)
    # `make sdk` runs the same fix of Pulumi's config stubs (tools/fix-config-stubs.py).
    subprocess.run([sys.executable, str(ROOT / "tools" / "fix-config-stubs.py"), str(out / "python")], check=True)
    committed = ROOT / "sdk" / "python"
    assert _tree(out / "python") == _tracked(committed), "sdk/python differs from gen-sdk's output: run `make sdk`"
    for f in _tracked(committed):
        assert filecmp.cmp(out / "python" / f, committed / f, shallow=False), f"sdk/python/{f} differs from gen-sdk's output: run `make sdk`"
