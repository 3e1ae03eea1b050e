"""Data versioning on top of snapshots (issue 5): immutable versions, lineage, retention,
listing, rollback to a disk and cross-region copies, with the real CLI and the emulator."""

import json
import re

from conftest import ROOT
from test_lifecycle import declare, steps, version

SPEC = ROOT / "tests" / "programs" / "spec"
QUERY = ROOT / "tests" / "programs" / "query"


def query(make_stack, emulator, dataset):
    q = make_stack(QUERY, env=emulator.env())
    q.config("resourceGroupName", "datasets-rg")
    q.config("dataset", dataset)
    q.up()
    return q.outputs()


def test_keep_last_two_keeps_v2_v3_a_kept_version_and_other_datasets(make_stack, emulator):
    emulator.create_disk("disk-b")
    emulator.create_disk("disk-o")
    # Another dataset in the same resource group, already released (retained).
    other = make_stack(SPEC, env=emulator.env())
    declare(other, version(emulator, name="other", ver="1", source_disk_id=emulator.disk_id(disk="disk-o")))
    other.up()
    declare(other)
    other.up()

    st = make_stack(SPEC, env=emulator.env())
    rule = {"keep_last": 2}

    def step(ver, keep_b=False):
        declare(
            st,
            version(emulator, name="a", ver=ver, retention=rule),
            version(emulator, name="b", ver=ver, retention=rule, source_disk_id=emulator.disk_id(disk="disk-b"), tags={"datasnap.keep": "true"} if keep_b else {}),
        )

    step("1", keep_b=True)
    st.up()
    step("2")
    st.up()
    step("3")
    text = st.run("preview", "--stack", st.name)
    assert 'will prune 1 retained version(s): "1"' in text.stdout + text.stderr, text.stdout
    assert set(emulator.snapshots()) >= {"a-v1", "a-v2", "b-v1", "b-v2"}, "preview pruned nothing"
    up = st.up()
    snaps = set(emulator.snapshots())
    assert {s for s in snaps if s.startswith("a-")} == {"a-v2", "a-v3"}
    assert {s for s in snaps if s.startswith("b-")} == {"b-v1", "b-v2", "b-v3"}, "the kept version survives"
    assert "other-v1" in snaps, "another dataset is untouched"
    assert 'pruned version "1" of dataset "a"' in up.stdout + up.stderr


def test_keep_last_one_holds_in_the_steady_state_and_any_keep_value_keeps(make_stack, emulator):
    """Issue 8: retention also runs when a version is released, so `keepLast: 1` leaves the
    new version alone after a bump; `datasnap.keep` keeps a version for any value but
    `false`."""
    emulator.create_disk("disk-k")
    st = make_stack(SPEC, env=emulator.env())
    rule = {"keep_last": 1}

    def step(ver, keep=None):
        declare(
            st,
            version(emulator, name="a", ver=ver, retention=rule),
            version(emulator, name="k", ver=ver, retention=rule, source_disk_id=emulator.disk_id(disk="disk-k"), tags={"datasnap.keep": keep} if keep else {}),
        )

    step("1", keep="yes")
    st.up()
    step("2")
    st.up()
    assert {s for s in emulator.snapshots() if s.startswith("a-")} == {"a-v2"}, "released v1 pruned at once"
    step("3")
    up = st.up()
    snaps = set(emulator.snapshots())
    assert {s for s in snaps if s.startswith("a-")} == {"a-v3"}
    assert {s for s in snaps if s.startswith("k-")} == {"k-v1", "k-v3"}, "datasnap.keep=yes keeps k-v1"
    assert 'pruned version "2" of dataset "a"' in up.stdout + up.stderr
    st.run("preview", "--stack", st.name, "--expect-no-changes")


def test_source_change_without_version_bump_fails_at_preview(make_stack, emulator):
    emulator.create_disk("disk2")
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator))
    st.up()
    before = emulator.snapshots()
    declare(st, version(emulator, source_disk_id=emulator.disk_id(disk="disk2")))
    p = st.run("preview", "--stack", st.name, check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "sourceDiskId" in out and "Bump `version`" in out, out
    assert emulator.snapshots() == before


def test_get_versions_orders_numerically_and_latest_follows_a_bump(make_stack, emulator):
    for d in ("n1", "n2", "n10", "s1", "s2"):
        emulator.create_disk(f"disk-{d}")
    st = make_stack(SPEC, env=emulator.env())
    declare(
        st,
        version(emulator, name="n10", ver="10", dataset="nums", source_disk_id=emulator.disk_id(disk="disk-n10")),
        version(emulator, name="n2", ver="2", dataset="nums", source_disk_id=emulator.disk_id(disk="disk-n2"), metadata={"gitCommit": "b2"}),
        version(emulator, name="n1", ver="1", dataset="nums", source_disk_id=emulator.disk_id(disk="disk-n1")),
        version(emulator, name="s1", ver="1.10.0", dataset="semver", source_disk_id=emulator.disk_id(disk="disk-s1")),
        version(emulator, name="s2", ver="1.2.0", dataset="semver", source_disk_id=emulator.disk_id(disk="disk-s2")),
    )
    st.up()
    out = query(make_stack, emulator, "nums")
    assert out["versions"] == ["1", "2", "10"]
    assert out["latest"] == "10"
    assert out["metadata"]["2"] == {"gitCommit": "b2"}
    assert query(make_stack, emulator, "semver")["versions"] == ["1.2.0", "1.10.0"]
    # Bump: 10 -> 11 (the old one is retained), and `latest` follows.
    declare(st, version(emulator, name="n10", ver="11", dataset="nums", source_disk_id=emulator.disk_id(disk="disk-n10")))
    st.up()
    out = query(make_stack, emulator, "nums")
    assert out["versions"] == ["1", "2", "10", "11"]
    assert out["latest"] == "11"
    assert re.search(r"/snapshots/nums-v11-[0-9a-f]{6}$", out["latestSnapshotId"].lower()), out["latestSnapshotId"]
    assert set(out["retained"]) == {"1", "2", "10"}


def test_restore_v1_after_v3_exists(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    for v in ("1", "2", "3"):
        declare(st, version(emulator, ver=v))
        st.up()
    restore = {"kind": "RestoredDisk", "name": "rollback", "resource_group_name": "datasets-rg", "dataset": "data", "version": "1", "sku": "Premium_LRS", "disk_size_gb": 128, "tags": {"purpose": "rollback"}}
    declare(st, version(emulator, ver="3"), restore)
    st.up()
    disks = {d["name"]: d for d in emulator.state()["disks"]}
    disk = disks["data-v1-disk"]
    assert disk["properties"]["creationData"]["createOption"] == "Copy"
    assert disk["properties"]["creationData"]["sourceResourceId"].lower() == emulator.snapshot_id("data-v1").lower()
    assert disk["properties"]["diskSizeGB"] == 128
    assert disk["sku"]["name"] == "Premium_LRS"
    assert disk["tags"]["purpose"] == "rollback"
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    # A tag change is in place; the disk survives its snapshot being pruned elsewhere.
    restore["tags"] = {"purpose": "rollback", "ticket": "INC-1"}
    declare(st, version(emulator, ver="3"), restore)
    [upd] = [s for s in steps(st.preview_json()) if s["newState"]["type"] == "datasnap:index:RestoredDisk"]
    assert upd["op"] == "update"
    st.up()
    assert {d["name"]: d for d in emulator.state()["disks"]}["data-v1-disk"]["tags"]["ticket"] == "INC-1"


def test_cross_region_copy_waits_and_reports_progress(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator))
    st.up()
    src = emulator.snapshot_id("data-v1")
    emulator.faults({"opDurationMs": 1500})
    declare(st, version(emulator), {"name": "data-east", "resource_group_name": "datasets-rg", "dataset": "data", "version": "1-eastus", "source_snapshot_id": src, "location": "eastus"})
    p = st.up()
    copy = emulator.snapshots()["data-v1-eastus"]
    assert copy["properties"]["creationData"]["createOption"] == "CopyStart"
    assert copy["properties"]["completionPercent"] == 100
    assert copy["location"] == "eastus"
    assert "copying snapshot" in p.stdout + p.stderr or "copied snapshot" in p.stdout + p.stderr, p.stdout
    st.run("preview", "--expect-no-changes", "--stack", st.name)


def test_failed_copy_is_reported_with_azure_code_and_leaves_nothing(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator))
    st.up()
    src = emulator.snapshot_id("data-v1")
    emulator.faults({"lroFailure": {"count": 1, "methods": ["PUT"], "pathContains": "/snapshots/data-v1-eastus", "code": "CopyFailedInternally", "message": "the copy failed"}})
    declare(st, version(emulator), {"name": "data-east", "resource_group_name": "datasets-rg", "dataset": "data", "version": "1-eastus", "source_snapshot_id": src, "location": "eastus"})
    p = st.up(check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "CopyFailedInternally" in out, out
    assert "data-v1-eastus" not in emulator.snapshots()
    tracked = [r["urn"] for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:VersionedSnapshot"]
    assert len(tracked) == 1, tracked


def test_destroy_under_retain_keeps_versions_and_says_so(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, ver="1"))
    st.up()
    declare(st, version(emulator, ver="2"))
    st.up()
    p = st.run("destroy", "--yes", "--skip-preview", "--stack", st.name)
    assert {"data-v1", "data-v2"} <= set(emulator.snapshots())
    assert "retained snapshot data-v2" in p.stdout + p.stderr
    out = query(make_stack, emulator, "data")
    assert out["versions"] == ["1", "2"] and set(out["retained"]) == {"1", "2"}


def test_restored_disk_import_by_arm_id_then_no_changes(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    restore = {"kind": "RestoredDisk", "name": "rollback", "resource_group_name": "datasets-rg", "dataset": "data", "version": "1", "tags": {"purpose": "rollback"}}
    declare(st, version(emulator))
    st.up()
    declare(st, version(emulator), restore)
    st.up()
    [disk] = [r for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:RestoredDisk"]
    disk_id = disk["id"]
    # Forget the disk, then adopt it again from its ARM id alone.
    st.run("state", "delete", disk["urn"], "--yes", "--stack", st.name)
    st.run("import", "datasnap:index:RestoredDisk", "rollback", disk_id, "--yes", "--protect=false", "--generate-code=false", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    [again] = [r for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:RestoredDisk"]
    assert again["id"] == disk_id
    assert again["outputs"]["restoredVersion"] == "1"
    assert again["outputs"]["restoredSnapshotId"].lower() == emulator.snapshot_id("data-v1").lower()


def test_restored_disk_with_a_fixed_name_is_replaced_delete_first(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    disk = lambda v: {"kind": "RestoredDisk", "name": "work", "resource_group_name": "datasets-rg", "dataset": "data", "version": v, "disk_name": "work-disk"}
    declare(st, version(emulator, ver="1"))
    st.up()
    declare(st, version(emulator, ver="2"), disk("1"))
    st.up()
    declare(st, version(emulator, ver="2"), disk("2"))
    st.up()
    disks = {d["name"]: d for d in emulator.state()["disks"]}
    assert disks["work-disk"]["properties"]["creationData"]["sourceResourceId"].lower() == emulator.snapshot_id("data-v2").lower()
    st.run("preview", "--expect-no-changes", "--stack", st.name)
