"""VersionedSnapshot against the emulator with the real CLI: up, preview, refresh, import,
update vs replace, drift, existing names, faults, cancel and destroy (issue 4)."""

import json
import signal
import subprocess
import time

from conftest import ROOT, pulumi_bin

SPEC = ROOT / "tests" / "programs" / "spec"


def version(emulator, name="data", ver="1", **extra):
    d = {"name": name, "resource_group_name": "datasets-rg", "dataset": name, "version": ver, "source_disk_id": emulator.disk_id()}
    d.update(extra)
    return d


def declare(st, *resources):
    st.config("resources", json.dumps(list(resources)))


def steps(plan, op=None):
    return [s for s in plan["steps"] if s["newState"]["type"].startswith("datasnap:index:") and (op is None or s["op"] == op)]


def test_up_then_no_changes_after_up_and_refresh(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, metadata={"gitCommit": "abc123"}, tags={"team": "ml"}))
    st.up()
    snaps = emulator.snapshots()
    assert list(snaps) == ["data-v1"]
    s = snaps["data-v1"]
    assert s["properties"]["creationData"]["createOption"] == "Copy"
    assert s["properties"]["creationData"]["sourceResourceId"].lower() == emulator.disk_id().lower()
    assert s["properties"]["incremental"] is True
    assert s["location"] == "westus"
    assert s["tags"]["datasnap.dataset"] == "data"
    assert s["tags"]["datasnap.version"] == "1"
    assert s["tags"]["datasnap.meta.gitCommit"] == "abc123"
    assert s["tags"]["team"] == "ml"
    assert st.outputs()["data"].lower() == emulator.snapshot_id("data-v1").lower()
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    # The recorded state carries what Azure reported.
    res = [r for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:VersionedSnapshot"][0]
    out = res["outputs"]
    assert out["diskSizeGb"] == 64 and out["provisioningState"] == "Succeeded" and out["uniqueId"]


def test_import_by_arm_id_then_no_changes(make_stack, emulator):
    # A version made outside Pulumi (a script tagged it), adopted by its ARM id alone.
    sub = emulator.info["subscriptionId"]
    path = f"/subscriptions/{sub}/resourceGroups/datasets-rg/providers/Microsoft.Compute/snapshots/data-v1?api-version=2025-01-02"
    body = {"location": "westus", "tags": {"datasnap.dataset": "data", "datasnap.version": "1", "team": "ml"},
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": emulator.disk_id()}, "incremental": True}}
    status, resp = emulator.call("PUT", path, body, token=True)
    assert status in (200, 202), resp
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, tags={"team": "ml"}))
    snap_id = emulator.snapshot_id("data-v1")
    st.run("import", "datasnap:index:VersionedSnapshot", "data", snap_id, "--yes", "--protect=false", "--generate-code=false", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)


def test_readopting_a_released_version_takes_the_release_marker_off(make_stack, emulator):
    first = make_stack(SPEC, env=emulator.env())
    declare(first, version(emulator))
    first.up()
    declare(first)
    first.up()
    assert emulator.snapshots()["data-v1"]["tags"]["datasnap.retained"] == "true"
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator))
    st.run("import", "datasnap:index:VersionedSnapshot", "data", emulator.snapshot_id("data-v1"), "--yes", "--protect=false", "--generate-code=false", "--stack", st.name)
    [step] = steps(st.preview_json())
    assert step["op"] == "update", step
    st.up()
    assert "datasnap.retained" not in emulator.snapshots()["data-v1"]["tags"], "held again: retention may not prune it"
    st.run("preview", "--expect-no-changes", "--stack", st.name)


def test_secret_tag_values_are_refused_because_azure_tags_are_plain(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, tags={"owner": "alice"}, secret_tag_values=True))
    p = st.run("preview", "--stack", st.name, check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "tags.owner" in out and "plain text" in out, out


def test_tag_change_updates_in_place_and_version_bump_replaces(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, tags={"env": "dev"}))
    st.up()
    declare(st, version(emulator, tags={"env": "prod"}))
    plan = st.preview_json("--diff")
    [step] = steps(plan)
    assert step["op"] == "update", step
    assert "tags.env" in step.get("detailedDiff", {}), step
    assert step["detailedDiff"]["tags.env"]["kind"] == "update"
    st.up()
    assert emulator.snapshots()["data-v1"]["tags"]["env"] == "prod"

    declare(st, version(emulator, ver="2", tags={"env": "prod"}))
    plan = st.preview_json()
    ops = [s["op"] for s in steps(plan)]
    assert "replace" in ops, ops
    p = st.up()
    snaps = emulator.snapshots()
    # Create-before-delete, and the old version survives under the default Retain policy.
    assert set(snaps) == {"data-v1", "data-v2"}
    assert snaps["data-v1"]["tags"].get("datasnap.retained") == "true"
    assert "retained snapshot data-v1" in p.stdout + p.stderr


def test_deleted_behind_our_back_refresh_drops_and_up_recreates(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator))
    st.up()
    status, _ = emulator.call("DELETE", emulator.snapshot_id("data-v1") + "?api-version=2025-01-02", token=True)
    assert status in (200, 202, 204)
    for _ in range(100):
        if "data-v1" not in emulator.snapshots():
            break
        time.sleep(0.1)
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    assert not [r for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:VersionedSnapshot"]
    st.up()
    assert "data-v1" in emulator.snapshots()


def test_existing_snapshot_name_fails_with_import_hint_and_changes_nothing(make_stack, emulator):
    other = make_stack(SPEC, env=emulator.env())
    declare(other, version(emulator, tags={"owner": "other"}))
    other.up()
    before = emulator.snapshots()["data-v1"]
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator))
    p = st.up(check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "already exists" in out and "pulumi import datasnap:index:VersionedSnapshot" in out, out
    assert emulator.snapshots()["data-v1"] == before


def test_destroy_with_delete_policy_leaves_nothing(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, deletion_policy="Delete"), version(emulator, name="keep", deletion_policy="Retain"))
    st.up()
    assert set(emulator.snapshots()) == {"data-v1", "keep-v1"}
    p = st.run("destroy", "--yes", "--skip-preview", "--stack", st.name)
    assert set(emulator.snapshots()) == {"keep-v1"}
    assert "retained snapshot keep-v1" in p.stdout + p.stderr


def test_twenty_snapshots_under_throttling_and_errors(make_stack, emulator):
    # Twenty datasets on twenty disks (Azure allows 7 incremental snapshots per disk per 5 minutes).
    for i in range(20):
        emulator.create_disk(f"disk{i}")
    st = make_stack(SPEC, env=emulator.env())
    declare(st, *[version(emulator, name=f"d{i}", source_disk_id=emulator.disk_id(disk=f"disk{i}")) for i in range(20)])
    emulator.faults({
        "throttle": {"fraction": 0.33, "retryAfterSecs": 0},
        "serverError": {"fraction": 0.05, "status": 503},
    })
    st.up()
    fired = emulator.state().get("injected", {})
    emulator.clear_faults()
    snaps = emulator.snapshots()
    assert sorted(snaps) == sorted(f"d{i}-v1" for i in range(20)), sorted(snaps)
    tracked = [r for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:VersionedSnapshot"]
    assert len(tracked) == 20
    assert fired, "the faults fired"
    st.run("preview", "--expect-no-changes", "--stack", st.name)


def test_wrong_credentials_give_one_clear_error_without_retry_storm(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env(ARM_CLIENT_SECRET="wrong"))
    declare(st, version(emulator))
    p = st.up(check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "clientSecret" in out or "ARM_CLIENT_SECRET" in out, out
    assert "wrong" not in out.replace("wrong credentials", ""), "the secret never appears in output"
    # No retry storm: only a handful of token requests reached the emulator.
    state = emulator.state()
    assert state.get("snapshots") == []


def test_cancel_during_a_slow_create_converges_on_the_next_up(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator))
    emulator.faults({"opDurationMs": 8000})
    proc = subprocess.Popen([pulumi_bin(), "--non-interactive", "up", "--yes", "--skip-preview", "--stack", st.name], cwd=st.dir, env=st.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and "data-v1" not in emulator.snapshots():
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    emulator.clear_faults()
    emulator.faults({"opDurationMs": 100})
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name, check=False)
    st.up()
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    assert list(emulator.snapshots()) == ["data-v1"]


def test_a_plain_config_secret_is_encrypted_in_state_and_never_printed(make_stack, emulator):
    env = emulator.env()
    secret = env.pop("ARM_CLIENT_SECRET")
    st = make_stack(SPEC, env=env)
    # Deliberately stored as plain config (the CLI asks for --secret; --plaintext overrides).
    st.run("config", "set", "--plaintext", "datasnap:clientSecret", secret, "--stack", st.name)
    declare(st, version(emulator))
    p = st.up()
    assert secret not in p.stdout + p.stderr
    exported = st.run("stack", "export", "--stack", st.name).stdout
    assert secret not in exported, "the client secret is stored encrypted"
    assert "data-v1" in emulator.snapshots()


def test_going_back_to_a_released_version_settles_in_one_up(make_stack, emulator):
    # 1 -> 2 -> 1: version 1's snapshot (released by the first bump) is taken back, and its
    # release marker goes at once, so retention can never prune a version a stack holds.
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, ver="1"))
    st.up()
    declare(st, version(emulator, ver="2"))
    st.up()
    assert emulator.snapshots()["data-v1"]["tags"]["datasnap.retained"] == "true"
    declare(st, version(emulator, ver="1"))
    st.up()
    assert "datasnap.retained" not in emulator.snapshots()["data-v1"]["tags"], emulator.snapshots()["data-v1"]["tags"]
    st.run("preview", "--expect-no-changes", "--stack", st.name)
