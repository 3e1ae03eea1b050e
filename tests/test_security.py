"""Security properties (issue 12): publicNetworkAccess, networkAccessPolicy with
diskAccessId, dataAccessAuthMode and encryption on VersionedSnapshot and RestoredDisk, with
azure-native's names: they round-trip with no diff after refresh, update in place, a
restored disk inherits them, and each invalid combination fails preview naming the
property. Real CLI, emulator."""

import pytest

from conftest import _items
from test_lifecycle import declare, steps, version
from test_versioning import SPEC

SUB = "/subscriptions/{sub}/resourceGroups/security-rg/providers/Microsoft.Compute"


def ids(emulator):
    base = SUB.format(sub=emulator.info["subscriptionId"])
    return base + "/diskAccesses/private-export", base + "/diskEncryptionSets/cmk"


def text(p):
    return p.stdout + p.stderr


def test_security_properties_round_trip_update_in_place_and_are_inherited(make_stack, emulator):
    access, des = ids(emulator)
    secure = dict(
        public_network_access="Disabled",
        network_access_policy="AllowPrivate",
        disk_access_id=access,
        data_access_auth_mode="AzureActiveDirectory",
        encryption={"type": "EncryptionAtRestWithCustomerKey", "disk_encryption_set_id": des},
    )
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, ver="1", **secure))
    st.up()
    p = emulator.snapshots()["data-v1"]["properties"]
    assert p["publicNetworkAccess"] == "Disabled"
    assert p["networkAccessPolicy"] == "AllowPrivate"
    assert p["diskAccessId"].lower() == access.lower()
    assert p["dataAccessAuthMode"] == "AzureActiveDirectory"
    assert p["encryption"]["type"] == "EncryptionAtRestWithCustomerKey"
    assert p["encryption"]["diskEncryptionSetId"].lower() == des.lower()
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)

    # Network access tightened: an update in place, not a new version.
    tighter = dict(secure, network_access_policy="DenyAll")
    del tighter["disk_access_id"]
    declare(st, version(emulator, ver="1", **tighter))
    [step] = steps(st.preview_json())
    assert step["op"] == "update", step
    st.up()
    p = emulator.snapshots()["data-v1"]["properties"]
    assert p["networkAccessPolicy"] == "DenyAll"
    assert "diskAccessId" not in p
    st.run("preview", "--expect-no-changes", "--stack", st.name)

    # An out-of-band change is drift that `up` reverts.
    status, body = emulator.call("PATCH", emulator.snapshot_id("data-v1") + "?api-version=2025-01-02", {"properties": {"networkAccessPolicy": "AllowAll"}}, token=True)
    assert status in (200, 202), body
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    assert [s["op"] for s in steps(st.preview_json())] == ["update"]
    st.up()
    assert emulator.snapshots()["data-v1"]["properties"]["networkAccessPolicy"] == "DenyAll"

    # A restored disk inherits the version's settings unless it overrides them.
    restored = {"kind": "RestoredDisk", "name": "restored", "resource_group_name": "datasets-rg", "dataset": "data", "version": "1"}
    loose = dict(restored, name="loose", disk_name="data-v1-open", public_network_access="Enabled")
    declare(st, version(emulator, ver="1", **tighter), restored, loose)
    st.up()
    disks = {d["name"]: d["properties"] for d in _items(emulator.state()["disks"])}
    d = disks["data-v1-disk"]
    assert d["networkAccessPolicy"] == "DenyAll" and d["publicNetworkAccess"] == "Disabled"
    assert d["encryption"]["diskEncryptionSetId"].lower() == des.lower()
    assert disks["data-v1-open"]["publicNetworkAccess"] == "Enabled"
    assert disks["data-v1-open"]["encryption"]["type"] == "EncryptionAtRestWithCustomerKey"
    st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    st.run("preview", "--expect-no-changes", "--stack", st.name)


INVALID = [
    ({"network_access_policy": "AllowPrivate"}, "diskAccessId"),
    ({"network_access_policy": "AllowAll", "disk_access_id": "ACCESS"}, "diskAccessId"),
    ({"network_access_policy": "AllowPrivate", "disk_access_id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/d"}, "diskAccessId"),
    ({"encryption": {"type": "EncryptionAtRestWithCustomerKey"}}, "encryption.diskEncryptionSetId"),
    ({"encryption": {"type": "EncryptionAtRestWithPlatformKey", "disk_encryption_set_id": "DES"}}, "encryption.diskEncryptionSetId"),
    ({"encryption": {"disk_encryption_set_id": "DES"}}, "encryption.type"),
    ({"encryption": {"type": "EncryptionAtRestWithMagic"}}, "encryption.type"),
    ({"network_access_policy": "AllowSome"}, "networkAccessPolicy"),
    ({"public_network_access": "Off"}, "publicNetworkAccess"),
    ({"data_access_auth_mode": "Entra"}, "dataAccessAuthMode"),
]


@pytest.mark.parametrize(
    "kind,settings,prop",
    [("VersionedSnapshot", s, p) for s, p in INVALID] + [("RestoredDisk", s, p) for s, p in INVALID[:4]],
)
def test_each_invalid_combination_fails_preview_naming_the_property(make_stack, emulator, settings, prop, kind):
    access, des = ids(emulator)

    def fill(v):
        if isinstance(v, dict):
            return {k: fill(x) for k, x in v.items()}
        return {"ACCESS": access, "DES": des}.get(v, v)

    settings = fill(settings)
    st = make_stack(SPEC, env=emulator.env())
    if kind == "VersionedSnapshot":
        declare(st, version(emulator, ver="1", **settings))
    else:
        declare(st, {"kind": "RestoredDisk", "name": "restored", "resource_group_name": "datasets-rg", "dataset": "data", "version": "1", **settings})
    p = st.run("preview", "--stack", st.name, check=False)
    assert p.returncode != 0
    assert prop in text(p), text(p)
    assert emulator.snapshots() == {}
