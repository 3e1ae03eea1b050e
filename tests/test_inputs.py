"""Input rules at Check (issue 8), with the real CLI and the emulator: a bad input fails
`pulumi preview` naming the property and what is allowed, and nothing reaches Azure."""

import pytest

from conftest import ROOT
from test_lifecycle import declare, version

SPEC = ROOT / "tests" / "programs" / "spec"

BAD = {
    "keep_last_minus_one": ({"retention": {"keep_last": -1}}, "retention.keepLast", "must be from 1 to 500"),
    "tag_keys_equal_ignoring_case": ({"tags": {"Env": "dev", "env": "prod"}}, "tags.env", "differ only in case"),
    "unknown_region": ({"location": "marsnorth"}, "location", '"marsnorth" is not an Azure region'),
}


def nothing_created(st, emulator):
    assert emulator.snapshots() == {}, "a snapshot reached the emulator"
    resources = st.state()["deployment"].get("resources") or []
    assert not [r for r in resources if r["type"].startswith("datasnap:index:")], resources


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_input_fails_preview_naming_the_property(make_stack, emulator, case):
    extra, prop, words = BAD[case]
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, **extra))
    p = st.run("preview", "--stack", st.name, check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0, out
    assert prop in out and words in out, out
    nothing_created(st, emulator)
    # `up` runs the same Check first: it fails the same way and creates nothing.
    u = st.up(check=False)
    assert u.returncode != 0 and prop in u.stdout + u.stderr, u.stdout + u.stderr
    nothing_created(st, emulator)


def test_a_snapshot_outside_its_disks_region_fails_before_any_write(make_stack, emulator):
    """Only Create learns the disk's region (westus): another region is refused there,
    naming `location` and the copy route, and no snapshot is made."""
    st = make_stack(SPEC, env=emulator.env())
    declare(st, version(emulator, location="eastus"))
    u = st.up(check=False)
    out = u.stdout + u.stderr
    assert u.returncode != 0, out
    assert "location" in out and "is not the region of the source disk" in out and "sourceSnapshotId" in out, out
    nothing_created(st, emulator)
