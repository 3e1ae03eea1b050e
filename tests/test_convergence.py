"""Convergence (issue 8): out-of-band edits of datasnap's tags and failed Azure writes are
drift that `refresh` shows and the next `up` repairs, with the real CLI and the emulator."""

import os
import re
import signal
import subprocess
import time

from conftest import ROOT, pulumi_bin
from test_lifecycle import declare, steps, version

SPEC = ROOT / "tests" / "programs" / "spec"


def patch_tags(emulator, name, tags):
    """Rewrites a snapshot's tags behind the stack's back (as the portal would)."""
    path = emulator.snapshot_id(name) + "?api-version=2025-01-02"
    status, body = emulator.call("PATCH", path, {"tags": tags}, token=True)
    assert status in (200, 202), body
    for _ in range(200):
        s = emulator.snapshots()[name]
        if s["tags"] == tags and s["properties"].get("provisioningState") == "Succeeded":
            return
        time.sleep(0.05)
    raise AssertionError(f"the emulator did not apply the tags of {name}")


def converge(st):
    """refresh (which warns about the drift), then up, then a preview that must find
    nothing to do. Returns the refresh's output and the paths the preview's diff named."""
    refresh = st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    plan = st.preview_json()
    paths = {p for s in steps(plan) for p in (s.get("detailedDiff") or {})}
    st.up()
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    return refresh.stdout + refresh.stderr, paths


def test_out_of_band_tag_edits_show_as_drift_and_up_restores_them(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, metadata={"gitCommit": "abc123"}, tags={"team": "ml"}))
    st.up()
    written = dict(emulator.snapshots()["data-v1"]["tags"])

    # The identity tags removed: the version vanished from listings and nothing noticed.
    patch_tags(emulator, "data-v1", {k: v for k, v in written.items() if k not in ("datasnap.dataset", "datasnap.version")})
    said, paths = converge(st)
    assert {'tags["datasnap.dataset"]', 'tags["datasnap.version"]'} <= paths, paths
    assert "datasnap.version" in said, said
    assert emulator.snapshots()["data-v1"]["tags"] == written

    # The version rewritten: the stack must neither strand nor replace anything.
    patch_tags(emulator, "data-v1", {**written, "datasnap.version": "99"})
    said, paths = converge(st)
    assert paths == {'tags["datasnap.version"]'}, paths
    assert '"99"' in said, said
    assert emulator.snapshots()["data-v1"]["tags"] == written
    assert list(emulator.snapshots()) == ["data-v1"], "nothing replaced or created"

    # Lineage removed, and a user tag added by someone else: datasnap's is restored, the
    # user's shows as an ordinary tag change that the program (which lacks it) removes.
    # A key another resource owns (an alias) is left alone through all of it.
    alias = {"datasnap.alias.production": "1"}
    patch_tags(emulator, "data-v1", {**{k: v for k, v in written.items() if k != "datasnap.meta.gitCommit"}, "owner": "ops", **alias})
    said, paths = converge(st)
    assert paths == {'tags["datasnap.meta.gitCommit"]', "tags.owner"}, paths
    assert emulator.snapshots()["data-v1"]["tags"] == {**written, **alias}


def fail_a_write(emulator, name):
    """A PATCH of the snapshot whose long-running operation fails (as a failed write from
    the portal or another tool would): the snapshot is left in provisioningState Failed."""
    emulator.faults({"lroFailure": {"count": 1, "methods": ["PATCH"], "code": "InternalDiskManagementError", "message": "boom"}})
    tags = emulator.snapshots()[name]["tags"]
    status, body = emulator.call("PATCH", emulator.snapshot_id(name) + "?api-version=2025-01-02", {"tags": tags}, token=True)
    assert status in (200, 202), body
    for _ in range(200):
        if emulator.snapshots()[name]["properties"]["provisioningState"] == "Failed":
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} did not end Failed")


def test_failed_writes_are_repaired_and_a_bump_needs_no_patch(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator))
    st.up()
    # A held version whose last write failed: refresh says so, up writes it again.
    fail_a_write(emulator, "data-v1")
    said, paths = converge(st)
    assert "provisioning state Failed" in said, said
    assert "provisioningState" in paths, paths
    assert emulator.snapshots()["data-v1"]["properties"]["provisioningState"] == "Succeeded"

    # A bump while Azure fails every PATCH operation: the release only merges its marker
    # (ARM's tags Merge, no long-running PATCH), so the old version ends Succeeded and marked.
    declare(st, version(emulator, ver="2"))
    emulator.faults({"lroFailure": {"methods": ["PATCH"], "code": "InternalDiskManagementError", "message": "boom"}})
    st.up()
    emulator.clear_faults()
    v1 = emulator.snapshots()["data-v1"]
    assert v1["properties"]["provisioningState"] == "Succeeded"
    assert v1["tags"]["datasnap.retained"] == "true"

    # A version released while Failed: the release re-issues the write, which repairs it.
    fail_a_write(emulator, "data-v2")
    declare(st, version(emulator, ver="3"))
    st.up()
    v2 = emulator.snapshots()["data-v2"]
    assert v2["properties"]["provisioningState"] == "Succeeded"
    assert v2["tags"]["datasnap.retained"] == "true"
    assert set(emulator.snapshots()) == {"data-v1", "data-v2", "data-v3"}
    st.run("preview", "--expect-no-changes", "--stack", st.name)


def _children(pid):
    """Every descendant of `pid`, from /proc."""
    parents = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parents[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c, pp in parents.items():
            if pp == p:
                out.append(c)
                todo.append(c)
    return out


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _crash_mid_up(make_stack, emulator, victim):
    """An `up` of 10 slow creates killed with SIGKILL once some are accepted by Azure, then
    one plain `up` with nothing done by hand."""
    for i in range(10):
        emulator.create_disk(f"disk{i}")
    st = make_stack(SPEC, env=emulator.env())
    declare(st, *[version(emulator, name=f"d{i}", source_disk_id=emulator.disk_id(disk=f"disk{i}")) for i in range(10)])
    emulator.faults({"opDurationMs": 4000})
    cli = subprocess.Popen([pulumi_bin(), "--non-interactive", "up", "--yes", "--skip-preview", "--stack", st.name], cwd=st.dir, env=st.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(emulator.snapshots()) < 4:
        time.sleep(0.1)
    accepted = len(emulator.snapshots())
    assert accepted >= 4, "creates were accepted before the kill"
    if victim == "provider":
        pids = [p for p in _children(cli.pid) if "pulumi-resource-datasnap" in _cmdline(p)]
        assert pids, "the provider is running"
        for p in pids:
            os.kill(p, signal.SIGKILL)
    else:
        orphans = _children(cli.pid)
        cli.kill()
    try:
        cli.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        cli.kill()
        cli.communicate()
    if victim == "cli":
        # The CLI's children would be reaped by the runner; here they are ended like CI would.
        for p in orphans:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # Pulumi's own stack lock outlives a killed CLI (a state-backend matter, not
        # datasnap's): clearing it is the one step Pulumi requires after such a crash.
        st.run("cancel", "--yes", "--stack", st.name)
    emulator.clear_faults()
    emulator.faults({"opDurationMs": 100})
    up = st.up(check=False)
    out = up.stdout + up.stderr
    assert up.returncode == 0, out
    assert "pulumi import" not in out, out
    tracked = [r for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:VersionedSnapshot"]
    assert len(tracked) == 10, len(tracked)
    assert sorted(emulator.snapshots()) == sorted(f"d{i}-v1" for i in range(10))
    st.run("preview", "--expect-no-changes", "--stack", st.name)
    adopted = set(re.findall(r"snapshots/(d\d+-v1)-[0-9a-f]{6} was created for this resource", out))
    return accepted, len(adopted)


def test_kill_9_of_the_provider_mid_up_then_one_up_converges(make_stack, emulator):
    accepted, adopted = _crash_mid_up(make_stack, emulator, "provider")
    print(f"provider SIGKILL: {accepted} accepted before the kill, {adopted} adopted")


def test_kill_9_of_the_cli_mid_up_then_one_up_converges(make_stack, emulator):
    accepted, adopted = _crash_mid_up(make_stack, emulator, "cli")
    print(f"CLI SIGKILL: {accepted} accepted before the kill, {adopted} adopted")


def test_a_taken_over_snapshot_is_refused_then_released_untouched(make_stack, emulator):
    """Issue 8: a snapshot whose claim changed behind the stack's back is never written or
    deleted by it; the refusal says what to do, and doing it converges."""
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, deletion_policy="Delete"))
    st.up()
    tags = dict(emulator.snapshots()["data-v1"]["tags"])
    mine = tags["datasnap.claim"]
    patch_tags(emulator, "data-v1", {**tags, "datasnap.claim": "urn:pulumi:prod::other::datasnap:index:VersionedSnapshot::data#0"})
    refresh = st.run("refresh", "--yes", "--skip-preview", "--stack", st.name)
    assert "is claimed by urn:pulumi:prod::other" in refresh.stdout + refresh.stderr
    declare(st, version(emulator, deletion_policy="Delete", tags={"team": "ml"}))
    refused = st.up(check=False)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "will not modify or delete it" in out, out
    assert emulator.snapshots()["data-v1"]["tags"]["datasnap.claim"] != mine, "nothing was written"
    # What the message says: remove the resource from the program; its delete only releases.
    declare(st)
    released = st.up()
    assert "without touching it in Azure" in released.stdout + released.stderr
    assert "data-v1" in emulator.snapshots(), "deletionPolicy Delete did not delete another holder's snapshot"
    st.run("preview", "--expect-no-changes", "--stack", st.name)
