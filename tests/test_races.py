"""Two stacks take the same dataset version at the same time (issue 8), with the real CLI:
3 s of latency on one stack's create PUT, on each side in turn, with default names and
with one explicit shared `snapshotName`.

Default names differ per stack, so both creates land and the create that settles second
finds the other's snapshot: the first one made holds the version, the loser deletes only
what it made and fails naming the holder. An explicit shared name is one Azure object
(Azure's PUT is an upsert, with no create-only form): the last writer's claim is on it, a
stack that finds another claim never modifies or deletes it, and it learns so either at
its create or at its next refresh. In every round Azure keeps one snapshot of the version,
and destroying the stack that does not hold it leaves it in place.
"""

import subprocess

from conftest import pulumi_bin
from test_lifecycle import SPEC, declare, version

ROUNDS = 3
LATENCY_MS = 3000


def _start_up(st):
    return subprocess.Popen(
        [pulumi_bin(), "--non-interactive", "up", "--yes", "--skip-preview", "--stack", st.name],
        cwd=st.dir, env=st.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _holding(emulator, ver):
    """The snapshots in Azure that carry version `ver` of dataset `data`."""
    return [s for s in emulator.all_snapshots()
            if s.get("tags", {}).get("datasnap.dataset") == "data" and s["tags"].get("datasnap.version") == ver]


def _tracked(st):
    return [r for r in st.state()["deployment"]["resources"] if r["type"] == "datasnap:index:VersionedSnapshot"]


def _race(make_stack, emulator, explicit):
    stacks = {p: make_stack(SPEC, env=emulator.env(), name=p) for p in ("race-a", "race-b")}
    tally = {"delayed": 0, "lost after its create": 0, "refused before writing": 0, "learned at refresh": 0}
    for i in range(2 * ROUNDS):
        slow = "race-a" if i % 2 == 0 else "race-b"
        ver = f"r{i}"
        extra = {"snapshot_name": f"shared-{ver}"} if explicit else {}
        for st in stacks.values():
            declare(st, version(emulator, ver=ver, deletion_policy="Delete", **extra))
        emulator.clear_faults()
        emulator.faults({"slow": {"count": 1, "delayMs": LATENCY_MS, "methods": ["PUT"], "pathContains": "/snapshots/", "bodyContains": f"::{slow}::"}})
        procs = {p: _start_up(st) for p, st in stacks.items()}
        outs = {p: (proc.communicate(timeout=600)[0], proc.returncode) for p, proc in procs.items()}
        # The slow stack's PUT was delayed, unless it found the other's snapshot first and
        # so never sent one.
        tally["delayed"] += emulator.call("GET", "/_emulator/faults")[1]["injected"].get("slow", 0)
        emulator.clear_faults()

        held = _holding(emulator, ver)
        assert len(held) == 1, f"round {i}: one snapshot of the version, not {[s['name'] for s in held]}\n{outs}"
        snap = held[0]
        survivor = snap["id"].lower()
        claim = snap["tags"]["datasnap.claim"]
        holder = next(p for p in stacks if f"::{p}::" in claim)
        other = next(p for p in stacks if p != holder)
        out, rc = outs[holder]
        assert rc == 0, f"round {i}: the holder's up succeeded\n{out}"
        assert [r["id"].lower() for r in _tracked(stacks[holder])] == [survivor]

        out, rc = outs[other]
        if rc != 0:
            assert survivor in out.lower(), f"round {i}: the loser names the holder's snapshot\n{out}"
            assert "lost a race" in out or "pulumi import datasnap:index:VersionedSnapshot data" in out, out
            assert _tracked(stacks[other]) == [], f"round {i}: the loser records nothing"
            if "deleted the snapshot this resource had just created" in out:
                tally["lost after its create"] += 1
            elif "already exists" in out or "lost a race" in out:
                tally["refused before writing"] += 1
            else:
                raise AssertionError(f"round {i}: an unexpected failure\n{out}")
        else:
            # Only an upsert of one shared name can let both creates finish: the other
            # stack's claim was overwritten after it checked, and its refresh says so.
            assert explicit, f"round {i}: with default names both stacks held the version\n{outs}"
            tally["learned at refresh"] += 1
            r = stacks[other].run("refresh", "--yes", "--skip-preview", "--stack", "dev")
            said = r.stdout + r.stderr
            assert f"is claimed by urn:pulumi:dev::{holder}::" in said, said

        # Destroying the stack that does not hold the version leaves it in Azure.
        stacks[other].run("destroy", "--yes", "--skip-preview", "--stack", "dev")
        after = _holding(emulator, ver)
        assert [s["properties"]["uniqueId"] for s in after] == [snap["properties"]["uniqueId"]], f"round {i}: destroying {other} kept {holder}'s version"
        stacks[holder].run("destroy", "--yes", "--skip-preview", "--stack", "dev")
        assert _holding(emulator, ver) == [], f"round {i}: the holder's destroy (Delete) removed its own version"
    return tally


def test_two_stacks_race_for_one_version_with_default_names(make_stack, emulator):
    tally = _race(make_stack, emulator, explicit=False)
    print(f"default names, {2 * ROUNDS} rounds: {tally}")
    assert tally["learned at refresh"] == 0, tally
    assert tally["delayed"] >= 1 and tally["lost after its create"] >= 1, f"the race was run: {tally}"


def test_two_stacks_race_for_one_explicit_snapshot_name(make_stack, emulator):
    tally = _race(make_stack, emulator, explicit=True)
    print(f"explicit shared name, {2 * ROUNDS} rounds: {tally}")
