"""A `pulumi preview` CI can trust (issue 10): a create is checked against Azure with reads
only. Credentials and taken names always fail the preview; a missing resource group,
source or restored version warns under `previewChecks: warn` (the default) and fails
under `strict`; `off` reads nothing. Nothing is ever created by a preview. A replacement's
preview says what becomes of the old version; reads are shared across the preview."""

import time

from conftest import start_emulator
from test_lifecycle import SPEC, declare, version


def preview(st, *args, mode=None):
    extra = {"DATASNAP_PREVIEW_CHECKS": mode} if mode else None
    p = st.run("preview", "--stack", st.name, *args, check=False, extra_env=extra)
    return p.returncode, p.stdout + p.stderr


def test_missing_prerequisites_warn_by_default_and_fail_under_strict(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    missing_disk = emulator.disk_id(disk="no-such-disk")
    declare(st,
            version(emulator, name="nodisk", source_disk_id=missing_disk),
            version(emulator, name="norg", resource_group_name="no-such-rg"),
            {"kind": "RestoredDisk", "name": "restore", "resource_group_name": "datasets-rg", "dataset": "never-made", "version": "7"})
    code, out = preview(st)
    assert code == 0, out
    assert "sourceDiskId" in out and "no-such-disk does not exist" in out, out
    assert "resourceGroupName" in out and '"no-such-rg" does not exist' in out, out
    assert 'version "7" of dataset "never-made" does not exist' in out, out
    assert "strict" in out  # the warning says how to make it an error
    code, out = preview(st, mode="strict")
    assert code != 0, out
    for text in ("sourceDiskId", "no-such-disk", "no-such-rg", "never-made"):
        assert text in out, out
    # `off`: no reads, so no warnings either.
    code, out = preview(st, mode="off")
    assert code == 0 and "does not exist" not in out, out
    assert emulator.all_snapshots() == []


def test_credentials_and_taken_names_always_fail_the_preview(make_stack, emulator):
    # Wrong credentials: an error even under the default `warn`.
    st = make_stack(SPEC, env=emulator.env(ARM_CLIENT_SECRET="wrong-secret"))
    declare(st, version(emulator))
    code, out = preview(st)
    assert code != 0 and "credentials" in out and "ARM_CLIENT_SECRET" in out, out
    # A snapshot name already taken in Azure by another stack, with the import command.
    other = make_stack(SPEC, env=emulator.env())
    declare(other, version(emulator, snapshot_name="shared-name"))
    other.up()
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, name="mine", snapshot_name="shared-name"))
    code, out = preview(st)
    assert code != 0 and "preview check" in out and "already exists" in out, out
    assert "pulumi import datasnap:index:VersionedSnapshot mine" in out, out
    # The same version in the region, under another name: also refused at preview.
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator))
    code, out = preview(st)
    assert code != 0 and 'version "1" of dataset "data" already exists' in out, out
    # A disk name already taken by a RestoredDisk.
    st = make_stack(SPEC, env=emulator.env())
    declare(st, {"kind": "RestoredDisk", "name": "restore", "resource_group_name": "datasets-rg", "dataset": "data", "version": "1", "disk_name": "dataset-disk"})
    code, out = preview(st, mode="off")
    assert code == 0, out
    code, out = preview(st)
    assert code != 0 and "dataset-disk" in out and "already exists" in out and "pulumi import datasnap:index:RestoredDisk" in out, out
    assert len(emulator.all_snapshots()) == 1


def test_a_defaulted_location_is_known_at_preview_and_unknowns_skip_only_their_checks(make_stack, emulator):
    program = '''
import pulumi
import pulumi_datasnap as datasnap

base = datasnap.VersionedSnapshot("base", resource_group_name="datasets-rg", dataset="base", version="1",
    source_disk_id=pulumi.Config().require("disk"))
# The source is another resource's output, unknown at preview: its check is skipped, the
# resource group's is not.
copy = datasnap.VersionedSnapshot("copy", resource_group_name="no-such-rg", dataset="copy", version="1",
    source_snapshot_id=base.snapshot_id)
pulumi.export("baseLocation", base.location)
pulumi.export("copyLocation", copy.location)
'''
    st = make_stack(program, env=emulator.env())
    st.config("disk", emulator.disk_id())
    code, out = preview(st)
    assert code == 0, out
    # The preview's outputs: the source's region is known; the copy's source is not.
    assert 'baseLocation: "westus"' in out, out
    assert "copyLocation: [unknown]" in out, out
    assert '"no-such-rg" does not exist' in out, out
    assert "sourceSnapshotId" not in out, out


def test_a_bump_preview_says_the_old_version_is_retained_or_deleted(make_stack, emulator):
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, name="kept"), version(emulator, name="gone", deletion_policy="Delete"))
    # A new stack's first preview says its default names are provisional (the claim salt
    # that suffixes them is made by the first `up`).
    code, out = preview(st)
    assert code == 0 and "first deployment" in out and "provisional" in out, out
    st.up()
    declare(st, version(emulator, name="kept", ver="2"), version(emulator, name="gone", ver="2", deletion_policy="Delete"))
    code, out = preview(st)
    assert code == 0, out
    assert "first deployment" not in out, out
    assert 'version "1" of dataset "kept"' in out and "stays in Azure as a retained version" in out, out
    assert 'version "1" of dataset "gone"' in out and "DELETED from Azure" in out, out
    assert len(emulator.all_snapshots()) == 2  # the preview changed nothing


def test_a_thousand_snapshot_preview_shares_its_reads(make_stack):
    emu = start_emulator("--arm-rate-limits", "--op-duration-ms", "0")
    try:
        for g in ("datasets-rg", "datasets-rg2"):
            if g != "datasets-rg":
                status, body = emu.call("PUT", f"/subscriptions/{emu.info['subscriptionId']}/resourcegroups/{g}?api-version=2021-04-01", {"location": "westus"}, token=True)
                assert status in (200, 201), body
            for d in range(5):
                emu.create_disk(f"disk{d}", group=g)
        program = '''
import pulumi
import pulumi_datasnap as datasnap

sub = datasnap.config.subscription_id
for i in range(1000):
    group = ("datasets-rg", "datasets-rg2")[i % 2]
    datasnap.VersionedSnapshot(f"s{i}", resource_group_name=group, dataset=f"set{i % 10}", version=str(i),
        source_disk_id=f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/disks/disk{i % 5}")
'''
        st = make_stack(program, env=emu.env())
        emu.call("DELETE", "/_emulator/requests")
        started = time.monotonic()
        code, out = preview(st)
        elapsed = time.monotonic() - started
        assert code == 0, out[-3000:]
        counts = emu.call("GET", "/_emulator/requests")[1]
        # One list per resource group, one GET per resource group and per source disk, and
        # the region list: a few dozen reads at most, not thousands.
        assert counts["writes"] == 0 and counts["deletes"] == 0, counts
        assert counts["reads"] <= 30, counts
        print(f"\n[preview] 1,000 creates: {counts['reads']} ARM reads, {elapsed:.1f} s")
    finally:
        emu.proc.terminate()
        emu.proc.wait(timeout=10)
