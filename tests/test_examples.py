"""The example programs, end to end against the emulator with the real CLI:
examples/python-secure (a locked-down version and a disk that inherits its settings) and the
alias, restore and export flow of examples/python-versioning (issue 12)."""

import json

from conftest import ROOT, _items

SECURE = ROOT / "examples" / "python-secure"
VERSIONING = ROOT / "examples" / "python-versioning"
ALIAS_KEY = "datasnap.alias.production"


def lock(emulator, logical, name):
    path = emulator.snapshot_id(logical) + f"/providers/Microsoft.Authorization/locks/{name}?api-version=2020-05-01"
    return emulator.call("GET", path, token=True)


def delete_snapshot(emulator, logical):
    return emulator.call("DELETE", emulator.snapshot_id(logical) + "?api-version=2025-01-02", token=True)


def disk_state(emulator, logical):
    """The snapshot's diskState as ARM answers it (ActiveSAS while access is open)."""
    status, body = emulator.call("GET", emulator.snapshot_id(logical) + "?api-version=2025-01-02", token=True)
    assert status == 200, body
    return body["properties"].get("diskState")


def disks(emulator):
    return {d["name"]: d for d in _items(emulator.state()["disks"])}


def text(p):
    return p.stdout + p.stderr


def test_python_secure_locks_down_a_version_and_its_restored_disk_inherits_it(make_stack, emulator):
    st = make_stack(SECURE, env=emulator.env())
    st.up()
    sub = emulator.info["subscriptionId"]
    des = f"/subscriptions/{sub}/resourceGroups/datasets-rg/providers/Microsoft.Compute/diskEncryptionSets/datasets-cmk"

    snap = emulator.snapshots()["secure-data-v1"]
    disk = disks(emulator)["secure-data-v1-restored"]
    for what, p in (("snapshot", snap["properties"]), ("disk", disk["properties"])):
        assert p["networkAccessPolicy"] == "DenyAll", (what, p)
        assert p["publicNetworkAccess"] == "Disabled", (what, p)
        assert p["dataAccessAuthMode"] == "AzureActiveDirectory", (what, p)
        assert p["encryption"]["type"] == "EncryptionAtRestWithCustomerKey", (what, p)
        assert p["encryption"]["diskEncryptionSetId"].lower() == des.lower(), (what, p)
        assert "diskAccessId" not in p, (what, p)
    assert disk["properties"]["creationData"]["sourceResourceId"].lower() == emulator.snapshot_id("secure-data-v1").lower()

    # Azure itself refuses to delete the locked version.
    status, body = lock(emulator, "secure-data-v1", "datasnap-version")
    assert status == 200 and body["properties"]["level"] == "CanNotDelete", body
    status, body = delete_snapshot(emulator, "secure-data-v1")
    assert status == 409 and body["error"]["code"] == "ScopeLocked", body

    out = st.outputs()
    assert out["snapshot_id"].lower() == emulator.snapshot_id("secure-data-v1").lower()
    assert out["restored_version"] == "1"
    assert out["restored_disk_id"].lower().endswith("/disks/secure-data-v1-restored")

    st.run("preview", "--expect-no-changes", "--stack", st.name)
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)

    # A bump: version 2 locked down the same way, version 1 released but still locked.
    st.config("datasetVersion", "2")
    st.up()
    snaps = emulator.snapshots()
    assert snaps["secure-data-v1"]["tags"]["datasnap.retained"] == "true"
    assert lock(emulator, "secure-data-v1", "datasnap-version")[0] == 200
    assert lock(emulator, "secure-data-v2", "datasnap-version")[0] == 200
    assert snaps["secure-data-v2"]["properties"]["networkAccessPolicy"] == "DenyAll"
    assert set(disks(emulator)) == {"dataset-disk", "secure-data-v2-restored"}
    st.run("preview", "--expect-no-changes", "--stack", st.name)


def test_python_versioning_promotes_restores_and_exports_production(make_stack, emulator):
    st = make_stack(VERSIONING, env=emulator.env())
    st.config("dataset", "images")
    st.up()
    st.config("datasetVersion", "2")
    st.up()
    assert set(emulator.snapshots()) == {"images-v1", "images-v2"}

    # Promote version 2: the alias's tag, and its lock, which Azure enforces.
    st.config("productionVersion", "2")
    st.up()
    snaps = emulator.snapshots()
    assert ALIAS_KEY in snaps["images-v2"]["tags"]
    assert ALIAS_KEY not in snaps["images-v1"]["tags"]
    status, body = lock(emulator, "images-v2", "datasnap-alias-production")
    assert status == 200 and body["properties"]["level"] == "CanNotDelete", body
    status, body = delete_snapshot(emulator, "images-v2")
    assert status == 409 and body["error"]["code"] == "ScopeLocked", body
    out = st.outputs()
    assert out["production_version"] == "2"
    assert out["production_snapshot_id"].lower() == emulator.snapshot_id("images-v2").lower()
    assert {v["version"]: v["aliases"] for v in out["versions"]} == {"1": [], "2": ["production"]}

    # Restore what production points at.
    st.config("restoreAlias", "production")
    st.up()
    disk = disks(emulator)["images-production"]
    assert disk["properties"]["creationData"]["sourceResourceId"].lower() == emulator.snapshot_id("images-v2").lower()
    assert st.outputs()["restored_alias_version"] == "2"

    # Export it: a secret SAS link, open in Azure.
    st.config("exportAlias", "production")
    st.up()
    assert disk_state(emulator, "images-v2") == "ActiveSAS"
    out = st.outputs()
    url = out["export_url"]
    assert url.startswith("https://"), url
    assert out["exported_version"] == "2"
    assert out["export_expires_at"]
    plain = st.run("stack", "output", "--json", "--stack", st.name).stdout
    assert json.loads(plain)["export_url"] == "[secret]", plain
    assert url not in plain
    assert url not in st.run("stack", "export", "--stack", st.name).stdout
    st.run("preview", "--expect-no-changes", "--stack", st.name)

    # A protected alias does not move; unprotected first, it moves in place.
    st.config("productionVersion", "1")
    p = st.run("preview", "--stack", st.name, check=False)
    assert p.returncode != 0 and "is protected" in text(p), text(p)
    st.config("productionVersion", "2")
    st.config("protectProduction", "false")
    st.up()
    assert lock(emulator, "images-v2", "datasnap-alias-production")[0] == 404
    st.config("productionVersion", "1")
    st.up()
    snaps = emulator.snapshots()
    assert ALIAS_KEY in snaps["images-v1"]["tags"] and ALIAS_KEY not in snaps["images-v2"]["tags"]

    # Removing the export revokes the link.
    st.run("config", "rm", "exportAlias", "--stack", st.name)
    st.up()
    assert disk_state(emulator, "images-v2") != "ActiveSAS"
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)
