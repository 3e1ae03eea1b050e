"""Moving from the seed's azure-native program to datasnap (issue 10): a snapshot made the
seed's way (a plain PUT of `Microsoft.Compute/snapshots`, none of datasnap's tags) is
imported as a version, the first `up` writes datasnap's tags in place without touching the
data, and a version bump then works as for any datasnap version."""

import json
import time

from conftest import ROOT

SPEC = ROOT / "tests" / "programs" / "spec"


def seed_snapshot(emulator, name: str, tags: dict | None = None) -> dict:
    """What `azure_native.compute.Snapshot("my-snapshot", ...)` makes: an auto-named
    snapshot, Copy of the disk, with the program's tags (the seed sets none)."""
    path = f"/subscriptions/{emulator.info['subscriptionId']}/resourceGroups/datasets-rg/providers/Microsoft.Compute/snapshots/{name}?api-version=2025-01-02"
    body = {"location": "westus", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": emulator.disk_id()}}}
    if tags:
        body["tags"] = tags
    status, resp = emulator.call("PUT", path, body, token=True)
    assert status in (200, 202), resp
    for _ in range(200):
        status, snap = emulator.call("GET", path, token=True)
        if snap["properties"].get("provisioningState") == "Succeeded":
            return snap
        time.sleep(0.05)
    raise AssertionError(f"{name} never became Succeeded")


def by_name(emulator) -> dict:
    return {s["name"]: s for s in emulator.all_snapshots()}


def test_an_azure_native_snapshot_is_imported_adopted_and_bumped(make_stack, emulator):
    before = seed_snapshot(emulator, "my-snapshot4f2a9c1", tags={"project": "ai-data-versioning"})
    st = make_stack(SPEC, env=emulator.env())
    # azure-native's snapshot is a full one: the migrated version says so (incremental=False);
    # the versions datasnap takes from now on are incremental, its default.
    training = {"name": "training", "resource_group_name": "datasets-rg", "dataset": "training-data", "version": "1",
                "source_disk_id": emulator.disk_id(), "tags": {"project": "ai-data-versioning"}, "incremental": False}
    st.config("resources", json.dumps([training]))
    # Without a hint the import says how to name the version.
    plain = st.run("import", "datasnap:index:VersionedSnapshot", "training", before["id"], "--yes", "--protect=false",
                   "--generate-code=false", "--stack", st.name, check=False)
    assert plain.returncode != 0 and "#dataset=<dataset>&version=<version>" in plain.stdout + plain.stderr, plain.stdout + plain.stderr
    st.run("import", "datasnap:index:VersionedSnapshot", "training", f"{before['id']}#dataset=training-data&version=1",
           "--yes", "--protect=false", "--generate-code=false", "--stack", st.name)
    state = [r for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:VersionedSnapshot"]
    assert [r["id"] for r in state] == [before["id"]], state
    # The first up writes the tags, in place: the same snapshot, its data untouched.
    plan = st.preview_json()
    [step] = [s for s in plan["steps"] if s["newState"]["type"] == "datasnap:index:VersionedSnapshot"]
    assert step["op"] == "update", step
    st.up()
    after = by_name(emulator)["my-snapshot4f2a9c1"]
    assert after["tags"]["datasnap.dataset"] == "training-data" and after["tags"]["datasnap.version"] == "1", after["tags"]
    assert after["tags"]["project"] == "ai-data-versioning"
    for key in ("uniqueId", "timeCreated", "creationData"):
        assert after["properties"][key] == before["properties"][key], key
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    # A version bump: a new snapshot, and the migrated one stays as a retained version.
    bumped = dict(training, version="2")
    del bumped["incremental"]
    st.config("resources", json.dumps([bumped]))
    st.up()
    snaps = by_name(emulator)
    assert snaps["my-snapshot4f2a9c1"]["tags"].get("datasnap.retained") == "true", snaps
    new = [s for n, s in snaps.items() if n != "my-snapshot4f2a9c1"]
    assert len(new) == 1 and new[0]["tags"]["datasnap.version"] == "2", snaps
    assert new[0]["properties"]["incremental"] is True
    st.run("preview", "--expect-no-changes", "--stack", st.name)


def test_a_dataset_version_name_is_enough_to_import(make_stack, emulator):
    snap = seed_snapshot(emulator, "images-v3")
    st = make_stack(SPEC, env=emulator.env())
    st.config("resources", json.dumps([{"name": "images", "resource_group_name": "datasets-rg", "dataset": "images",
                                        "version": "3", "source_disk_id": emulator.disk_id(), "incremental": False}]))
    st.run("import", "datasnap:index:VersionedSnapshot", "images", snap["id"], "--yes", "--protect=false",
           "--generate-code=false", "--stack", st.name)
    st.up()
    tags = by_name(emulator)["images-v3"]["tags"]
    assert tags["datasnap.dataset"] == "images" and tags["datasnap.version"] == "3", tags
    st.run("preview", "--expect-no-changes", "--stack", st.name)
