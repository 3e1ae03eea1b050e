"""Aliases (issue 12): a named, movable pointer to one version, stored as a tag on the
version's snapshot; unique per dataset across stacks; protected aliases lock their version
and refuse to move or go; retention never prunes what an alias points at; getVersion,
getVersions and RestoredDisk take aliases. Real CLI, emulator."""

from conftest import ROOT, _items
from test_lifecycle import declare, steps, version
from test_versioning import SPEC

QUERY = ROOT / "tests" / "programs" / "query"
ALIAS_KEY = "datasnap.alias.production"


def v(emulator, ver, **extra):
    """Version `ver` of dataset `data`, as resource `v<ver>`."""
    return version(emulator, name=f"v{ver}", ver=ver, dataset="data", **extra)


def alias(ver, name="prod", after=("v1", "v2"), **extra):
    d = {"kind": "VersionAlias", "name": name, "resource_group_name": "datasets-rg", "dataset": "data", "alias": "production", "version": ver, "after": list(after)}
    d.update(extra)
    return d


def tags(emulator, logical):
    return emulator.snapshots()[logical]["tags"]


def lock(emulator, logical, name):
    path = emulator.snapshot_id(logical) + f"/providers/Microsoft.Authorization/locks/{name}?api-version=2020-05-01"
    return emulator.call("GET", path, token=True)


def text(p):
    return p.stdout + p.stderr


def query(make_stack, emulator, alias_name=None):
    q = make_stack(QUERY, env=emulator.env())
    q.config("resourceGroupName", "datasets-rg")
    q.config("dataset", "data")
    if alias_name:
        q.config("alias", alias_name)
    q.up()
    return q.outputs()


def test_an_alias_is_created_moved_in_place_listed_and_restored(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, v(emulator, "1"), v(emulator, "2"), alias("1"))
    st.up()
    assert ALIAS_KEY in tags(emulator, "data-v1")
    assert ALIAS_KEY not in tags(emulator, "data-v2")
    assert st.outputs()["prod"].lower() == emulator.snapshot_id("data-v1").lower()
    got = query(make_stack, emulator, "production")
    assert got["aliases"] == {"1": ["production"], "2": []}
    assert got["aliasVersion"] == "1"

    # The version's own resource writes its tags without touching the alias's key.
    declare(st, v(emulator, "1", tags={"team": "ml"}), v(emulator, "2"), alias("1"))
    st.up()
    assert ALIAS_KEY in tags(emulator, "data-v1") and tags(emulator, "data-v1")["team"] == "ml"

    # A move is an update in place that names both versions.
    declare(st, v(emulator, "1", tags={"team": "ml"}), v(emulator, "2"), alias("2"))
    plan = st.preview_json()
    [step] = [s for s in steps(plan) if s["newState"]["type"] == "datasnap:index:VersionAlias"]
    assert step["op"] == "update", step
    preview = st.run("preview", "--stack", st.name)
    assert 'moves from version "1" to version "2"' in text(preview)
    st.up()
    assert ALIAS_KEY not in tags(emulator, "data-v1")
    assert ALIAS_KEY in tags(emulator, "data-v2")
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    assert query(make_stack, emulator, "production")["aliasVersion"] == "2"

    # A disk restored from the alias gets the version it points at.
    restored = {"kind": "RestoredDisk", "name": "restored", "resource_group_name": "datasets-rg", "dataset": "data", "alias": "production", "after": ["prod"]}
    declare(st, v(emulator, "1", tags={"team": "ml"}), v(emulator, "2"), alias("2"), restored)
    st.up()
    out = st.outputs()
    assert out["restored-version"] == "2"
    [disk] = [d for d in _items(emulator.state()["disks"]) if d["name"] == "data-production-disk"]
    assert disk["properties"]["creationData"]["sourceResourceId"].lower() == emulator.snapshot_id("data-v2").lower()

    # Deleting the alias removes its tag and nothing else.
    declare(st, v(emulator, "1", tags={"team": "ml"}), v(emulator, "2"))
    st.up()
    assert not any(k.startswith("datasnap.alias.") for s in emulator.snapshots().values() for k in s["tags"])
    assert set(emulator.snapshots()) == {"data-v1", "data-v2"}


def test_an_alias_is_unique_per_dataset_across_stacks(make_stack, emulator):
    a = make_stack(SPEC, env=emulator.env())
    declare(a, v(emulator, "1"), v(emulator, "2"), alias("1"))
    a.up()
    b = make_stack(SPEC, env=emulator.env())
    declare(b, alias("2", name="theirs", after=()))
    # The preview already says what `up` would: the alias is taken.
    p = b.run("preview", "--stack", b.name, check=False)
    assert p.returncode != 0 and "preview check: " in text(p) and "is already held by" in text(p), text(p)
    p = b.up(check=False)
    assert p.returncode != 0
    out = text(p)
    assert 'alias "production" of dataset "data" is already held by' in out, out
    assert "VersionAlias::prod" in out and "pulumi import datasnap:index:VersionAlias theirs" in out, out
    # Nothing of the loser is left, and the holder's alias stands.
    assert ALIAS_KEY in tags(emulator, "data-v1")
    assert ALIAS_KEY not in tags(emulator, "data-v2")
    a.run("preview", "--expect-no-changes", "--stack", a.name)


def test_a_protected_alias_locks_its_version_and_cannot_move_or_go(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, v(emulator, "1"), v(emulator, "2"), alias("1", protected=True))
    st.up()
    status, body = lock(emulator, "data-v1", "datasnap-alias-production")
    assert status == 200 and body["properties"]["level"] == "CanNotDelete", body
    status, body = emulator.call("DELETE", emulator.snapshot_id("data-v1") + "?api-version=2025-01-02", token=True)
    assert status == 409 and body["error"]["code"] == "ScopeLocked", body
    assert "data-v1" in emulator.snapshots()

    declare(st, v(emulator, "1"), v(emulator, "2"), alias("2", protected=True))
    p = st.run("preview", "--stack", st.name, check=False)
    assert p.returncode != 0
    assert "is protected" in text(p) and "protected: false" in text(p), text(p)

    declare(st, v(emulator, "1"), v(emulator, "2"))
    p = st.up(check=False)
    assert p.returncode != 0
    assert "is protected: it cannot be deleted" in text(p), text(p)
    assert ALIAS_KEY in tags(emulator, "data-v1")

    # Lifting the protection first, then moving, works.
    declare(st, v(emulator, "1"), v(emulator, "2"), alias("1", protected=False))
    st.up()
    assert lock(emulator, "data-v1", "datasnap-alias-production")[0] == 404
    declare(st, v(emulator, "1"), v(emulator, "2"), alias("2"))
    st.up()
    assert ALIAS_KEY in tags(emulator, "data-v2")


def test_retention_and_delete_policy_never_delete_an_aliased_version(make_stack, emulator):
    rule = {"keep_last": 1}
    st = make_stack(SPEC, env=emulator.env())
    declare(st, v(emulator, "1", retention=rule))
    st.up()
    al = make_stack(SPEC, env=emulator.env())
    declare(al, alias("1", after=()))
    al.up()

    # v1 is released by the bump and beyond keepLast, but the alias holds it.
    declare(st, v(emulator, "2", retention=rule))
    st.up()
    assert {"data-v1", "data-v2"} <= set(emulator.snapshots())
    # The alias moves on: the next release lets retention prune v1 (v2 is aliased now).
    declare(al, alias("2", after=()))
    al.up()
    declare(st, v(emulator, "3", retention=rule))
    up = st.up()
    snaps = set(emulator.snapshots())
    assert "data-v1" not in snaps, text(up)
    assert {"data-v2", "data-v3"} <= snaps

    # deletionPolicy Delete releases an aliased version instead of deleting it.
    declare(al, alias("3", after=()))
    al.up()
    declare(st, v(emulator, "3", retention=rule, deletion_policy="Delete"))
    st.up()
    declare(st)
    up = st.up()
    assert "data-v3" in emulator.snapshots(), text(up)
    assert "not deleted although deletionPolicy is Delete" in text(up)
    assert tags(emulator, "data-v3").get("datasnap.retained") == "true"


def test_alias_tags_survive_refresh_and_import_of_the_version_and_the_alias(make_stack, emulator):
    a = make_stack(SPEC, env=emulator.env())
    declare(a, v(emulator, "1"), alias("1", after=("v1",)))
    a.up()
    before = tags(emulator, "data-v1")
    b = make_stack(SPEC, env=emulator.env())
    sub = emulator.info["subscriptionId"]
    b.run("import", "datasnap:index:VersionedSnapshot", "imported-v1", emulator.snapshot_id("data-v1"), "--yes", "--protect=false", "--generate-code=false", "--stack", b.name)
    alias_id = f"/subscriptions/{sub}/resourceGroups/datasets-rg/datasets/data/aliases/production"
    b.run("import", "datasnap:index:VersionAlias", "imported-prod", alias_id, "--yes", "--protect=false", "--generate-code=false", "--stack", b.name)
    assert tags(emulator, "data-v1") == before, "an import writes nothing"
    found = {r["type"]: r for r in b.state()["deployment"]["resources"]}
    assert found["datasnap:index:VersionAlias"]["outputs"]["version"] == "1"
    assert found["datasnap:index:VersionAlias"]["outputs"]["alias"] == "production"
    assert found["datasnap:index:VersionedSnapshot"]["outputs"]["version"] == "1"
    b.run("refresh", "--yes", "--skip-preview", "--stack", b.name)
    a.run("refresh", "--yes", "--skip-preview", "--stack", a.name)
    a.run("preview", "--expect-no-changes", "--stack", a.name)
    assert tags(emulator, "data-v1") == before
