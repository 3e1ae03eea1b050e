"""Export links (issue 12): a VersionExport grants read access to one version through
Azure's beginGetAccess, outputs the SAS URL as a secret (never in plain state or logs),
keeps the access open until it is destroyed (endGetAccess), renews an expired grant on `up`,
and makes retention hold (not prune) a version someone is reading. A preview opens nothing.
Real CLI, emulator."""

import json
import time
import urllib.error
import urllib.request

from test_lifecycle import declare, steps, version
from test_versioning import SPEC


def export(ver="1", name="link", **extra):
    d = {"kind": "VersionExport", "name": name, "resource_group_name": "datasets-rg", "dataset": "data", "version": ver, "after": ["data"]}
    d.update(extra)
    return d


def disk_state(emulator, logical):
    return emulator.snapshots()[logical]["properties"].get("diskState")


def fetch(emulator, url):
    try:
        with urllib.request.urlopen(url, context=emulator.ssl, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def text(p):
    return p.stdout + p.stderr


def test_an_export_is_a_secret_link_open_until_destroyed_and_a_preview_opens_nothing(make_stack, emulator):
    rule = {"keep_last": 1}
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, ver="1", retention=rule))
    st.up()
    declare(st, version(emulator, ver="1", retention=rule), export("1"))
    plan = st.preview_json()
    assert [s["op"] for s in steps(plan)] == ["create"]
    assert disk_state(emulator, "data-v1") != "ActiveSAS", "a preview granted access"

    up = st.up()
    assert disk_state(emulator, "data-v1") == "ActiveSAS"
    out = st.outputs()
    sas = out["link"]
    assert sas.startswith("https://") and "sig=" in sas
    assert out["link-version"] == "1" and out["link-expires"]
    assert fetch(emulator, sas) == 200

    # A secret: not in plain state, not in the CLI's output, not in `stack output`.
    exported = st.run("stack", "export", "--stack", st.name).stdout
    assert sas not in exported and "sig=" not in exported
    res = [r for r in json.loads(exported)["deployment"]["resources"] if r["type"] == "datasnap:index:VersionExport"][0]
    assert "ciphertext" in json.dumps(res["outputs"]["accessSas"])
    plain = st.run("stack", "output", "--json", "--stack", st.name).stdout
    assert sas not in plain
    for cmd, _, stdout, stderr in st.log:
        if "--show-secrets" not in cmd:
            assert sas not in stdout + stderr, f"the SAS leaked into the output of {cmd}"
    assert sas not in text(up)

    # A direct delete is refused while access is open; retention holds the version too.
    status, body = emulator.call("DELETE", emulator.snapshot_id("data-v1") + "?api-version=2025-01-02", token=True)
    assert status == 409, body
    declare(st, version(emulator, ver="2", retention=rule), export("1"))
    up = st.up()
    assert "data-v1" in emulator.snapshots()
    assert "open access" in text(up), text(up)
    st.run("preview", "--expect-no-changes", "--stack", st.name)

    # Destroyed: access revoked, the link stops working, and retention may prune v1 now.
    declare(st, version(emulator, ver="2", retention=rule))
    st.up()
    assert fetch(emulator, sas) == 403
    assert disk_state(emulator, "data-v1") != "ActiveSAS"
    declare(st, version(emulator, ver="3", retention=rule))
    st.up()
    assert "data-v1" not in emulator.snapshots()


def test_an_expired_export_is_drift_that_up_renews(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, ver="1"), export("1", duration_seconds=20))
    st.up()
    first = st.outputs()
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    time.sleep(21)
    assert fetch(emulator, first["link"]) == 403
    plan = st.preview_json()
    [step] = [s for s in steps(plan) if s["newState"]["type"] == "datasnap:index:VersionExport"]
    assert step["op"] == "update", step
    st.up()
    renewed = st.outputs()
    assert renewed["link-expires"] > first["link-expires"]
    assert renewed["link"] != first["link"]
    assert fetch(emulator, renewed["link"]) == 200
    assert disk_state(emulator, "data-v1") == "ActiveSAS"


def test_two_exports_of_one_version_share_its_access(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, ver="1"), export("1", name="a"), export("1", name="b"))
    st.up()
    out = st.outputs()
    declare(st, version(emulator, ver="1"), export("1", name="b"))
    up = st.up()
    assert "another export still reads" in text(up)
    assert disk_state(emulator, "data-v1") == "ActiveSAS"
    assert fetch(emulator, out["b"]) == 200
    declare(st, version(emulator, ver="1"))
    st.up()
    assert disk_state(emulator, "data-v1") != "ActiveSAS"
