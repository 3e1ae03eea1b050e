"""Versions that Azure itself protects (issue 12): `lock: true` places datasnap's
CanNotDelete management lock; a DELETE sent straight to Azure and the deletion of the
resource group are refused (409 ScopeLocked), while datasnap's own prune and delete lift
exactly its lock first. Missing permission names the role. Real CLI, emulator."""

from test_lifecycle import declare, version
from test_versioning import SPEC

LOCK = "datasnap-version"


def lock_path(emulator, logical, name=LOCK):
    return emulator.snapshot_id(logical) + f"/providers/Microsoft.Authorization/locks/{name}?api-version=2020-05-01"


def text(p):
    return p.stdout + p.stderr


def test_a_locked_version_survives_deletes_outside_datasnap_and_prune_still_removes_it(make_stack, emulator):
    rule = {"keep_last": 1}
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, ver="1", lock=True, retention=rule))
    st.up()
    status, body = emulator.call("GET", lock_path(emulator, "data-v1"), token=True)
    assert status == 200 and body["properties"]["level"] == "CanNotDelete", body
    assert "datasnap" in body["properties"]["notes"]

    # Straight to Azure: the snapshot, then its whole resource group.
    status, body = emulator.call("DELETE", emulator.snapshot_id("data-v1") + "?api-version=2025-01-02", token=True)
    assert status == 409 and body["error"]["code"] == "ScopeLocked", body
    sub = emulator.info["subscriptionId"]
    status, body = emulator.call("DELETE", f"/subscriptions/{sub}/resourceGroups/datasets-rg?api-version=2021-04-01", token=True)
    assert status == 409 and body["error"]["code"] == "ScopeLocked", body
    assert "data-v1" in emulator.snapshots()
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)

    # A lock lifted outside datasnap is drift that `up` repairs.
    status, _ = emulator.call("DELETE", lock_path(emulator, "data-v1"), token=True)
    assert status == 200
    refresh = st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    assert "lost datasnap's management lock" in text(refresh)
    st.up()
    assert emulator.call("GET", lock_path(emulator, "data-v1"), token=True)[0] == 200

    # The bump releases v1 (it stays locked), and retention prunes it: datasnap lifts its
    # own lock first.
    declare(st, version(emulator, ver="2", lock=True, retention=rule))
    up = st.up()
    assert set(emulator.snapshots()) == {"data-v2"}, text(up)
    assert 'pruned version "1"' in text(up)

    # lock: false lifts it; deletionPolicy Delete deletes a locked version (lift, delete).
    declare(st, version(emulator, ver="2", lock=False, retention=rule))
    st.up()
    assert emulator.call("GET", lock_path(emulator, "data-v2"), token=True)[0] == 404
    declare(st, version(emulator, ver="2", lock=True, retention=rule, deletion_policy="Delete"))
    st.up()
    assert emulator.call("GET", lock_path(emulator, "data-v2"), token=True)[0] == 200
    declare(st)
    st.up()
    assert emulator.snapshots() == {}


def test_a_lock_of_someone_else_is_never_lifted(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, ver="1", deletion_policy="Delete"))
    st.up()
    body = {"properties": {"level": "CanNotDelete", "notes": "legal hold"}}
    status, _ = emulator.call("PUT", lock_path(emulator, "data-v1", "legal-hold"), body, token=True)
    assert status in (200, 201)
    declare(st)
    p = st.up(check=False)
    assert p.returncode != 0
    assert "ScopeLocked" in text(p), text(p)
    assert "data-v1" in emulator.snapshots()
    assert emulator.call("GET", lock_path(emulator, "data-v1", "legal-hold"), token=True)[0] == 200


def test_missing_permission_to_lock_names_the_role_and_keeps_the_version_tracked(make_stack, emulator):
    status, _ = emulator.call("POST", "/_emulator/denied-actions", {"actions": ["Microsoft.Authorization/locks/write"]})
    assert status == 200
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, ver="1", lock=True))
    p = st.up(check=False)
    assert p.returncode != 0
    out = text(p)
    assert "Microsoft.Authorization/locks/write" in out and "Owner or User Access Administrator" in out, out
    assert "data-v1" in emulator.snapshots()
    tracked = [r for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:VersionedSnapshot"]
    assert len(tracked) == 1, "the version is tracked although its lock failed"
    emulator.call("DELETE", "/_emulator/denied-actions")
    st.up()
    assert emulator.call("GET", lock_path(emulator, "data-v1"), token=True)[0] == 200
    st.run("preview", "--expect-no-changes", "--stack", st.name)
