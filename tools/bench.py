"""`make bench`: datasnap's performance table (measurements only, no pass/fail).

| measure | how |
| --- | --- |
| provider start | launch `pulumi-resource-datasnap` N times (after 2 warm-up launches); time from spawn to its port line on stdout; median, min, max |
| provider memory | VmRSS from /proc of a provider driven over gRPC (Pulumi's own stubs, `pulumi.runtime.proto`): after Handshake, after Configure (Azure settings from ARM_* pointing at the emulator), and after one getVersions Invoke (token, TLS, a list call) |
| Check / Diff latency | the provider started directly and configured against an emulator (as above); one VersionedSnapshot's inputs are checked and created once, then N = 200 Check calls (those inputs, as a protobuf Struct) and N Diff calls (the created outputs against the same inputs) are made one after the other on a single channel; median and p90 of each call's round trip, in ms. With Nagle's algorithm left on in the server, an answer written in more than one piece can wait for the client's delayed ACK, about 40 ms a call, and shows here |
| `pulumi up` of 50 | a Python program with 50 VersionedSnapshots (full snapshots, `incremental=False`, of the seeded disk) against a fresh emulator whose every long-running operation takes T = 2 s; compared with the ideal time Pulumi's parallelism allows |
| no-change preview of 50, beside the floor | the 50-snapshot program and its floor twin (below) are each brought up once against an emulator answering at once, then `pulumi preview --expect-no-changes` runs 3 times on each, alternating between the two; medians and the ratio datasnap / floor |
| preview of 1,000 creates, beside the floor | `pulumi preview` of a fresh stack (nothing created yet) of the program with 1,000 VersionedSnapshots, and of its floor twin, alternating, 3 runs each (no warm-up beyond the earlier runs); medians and the ratio. The emulator is the ARM endpoint but a preview barely calls it |
| preview checks' reads | `pulumi preview` of a fresh stack of 1,000 VersionedSnapshots spread over 10 disks in 2 resource groups (10 datasets), against an emulator with `--arm-rate-limits`; the ARM requests it served, counted by the emulator (`GET /_emulator/requests`), and the time |
| emulator | `make bench-emulator`'s GETs/s, when its load generator is already built |

Ideal time for the 50: `fixed + ceil(50 / P) * T`, where `fixed` is `pulumi up` of the same
program with 1 snapshot against an emulator that answers every operation at once (T = 0): the
fixed cost of the CLI, the engine, the Python program, the provider's start and one create.
The table also shows the looser ideal with `fixed` = the up of all 50 at T = 0, which counts
the per-resource work (overlapped with the waits in the real run) on top of the waits. P is the engine's parallelism: `pulumi up` runs at most P resource operations at once,
and its default in v3.274 is 4 x GOMAXPROCS (pkg/cmd/pulumi/operations/up.go,
`defaultParallel`), read here from `pulumi up --help`. Ratio = measured / ideal.

The floor twin: the same program, resource names, count and arguments, but each resource is a
`pulumi.ComponentResource` holding those arguments as its inputs instead of a VersionedSnapshot
(config `kind=floor`). No provider serves a component, so the floor is what the CLI, the engine,
the state and the Python SDK cost for that many resources; datasnap / floor is the provider's
share on top of it (its start, Check and Create(preview) or Diff per resource, and their gRPC
round trips).

Knobs (environment): DATASNAP_BENCH_START_RUNS (20), DATASNAP_BENCH_UP_COUNT (50),
DATASNAP_BENCH_OP_MS (2000), DATASNAP_BENCH_UP_REPEATS (3), DATASNAP_BENCH_RPC_CALLS (200),
DATASNAP_BENCH_PREVIEW_COUNT (1000), DATASNAP_BENCH_NOCHANGE_COUNT (50),
DATASNAP_BENCH_PREVIEW_REPEATS (3), DATASNAP_BENCH_SKIP_EMULATOR, DATASNAP_BENCH_KEEP (keep the
temporary folder), DATASNAP_BIN_DIR (the binaries, default bin/).

Writes the table as JSON to out/bench.json too. Python standard library plus the `pulumi`
package's gRPC stubs (the .venv this runs in has them).
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = (ROOT / os.environ.get("DATASNAP_BIN_DIR", "bin")).resolve()
VENV = ROOT / ".venv"
PROVIDER = BIN_DIR / "pulumi-resource-datasnap"
EMULATOR = BIN_DIR / "datasnap-emulator"

START_RUNS = int(os.environ.get("DATASNAP_BENCH_START_RUNS", "20"))
UP_COUNT = int(os.environ.get("DATASNAP_BENCH_UP_COUNT", "50"))
OP_MS = int(os.environ.get("DATASNAP_BENCH_OP_MS", "2000"))
UP_REPEATS = int(os.environ.get("DATASNAP_BENCH_UP_REPEATS", "3"))
RPC_CALLS = int(os.environ.get("DATASNAP_BENCH_RPC_CALLS", "200"))
PREVIEW_COUNT = int(os.environ.get("DATASNAP_BENCH_PREVIEW_COUNT", "1000"))
NOCHANGE_COUNT = int(os.environ.get("DATASNAP_BENCH_NOCHANGE_COUNT", "50"))
PREVIEW_REPEATS = int(os.environ.get("DATASNAP_BENCH_PREVIEW_REPEATS", "3"))
KINDS = ("datasnap", "floor")  # the program's two variants (see PROGRAM)


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --- helpers -----------------------------------------------------------------------------


class Child:
    """A child process (self.proc) that a `with` block stops."""

    proc: subprocess.Popen

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Emulator(Child):
    def __init__(self, workdir: Path, *args: str):
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(EMULATOR), "serve", "--seed", "--ca-file", str(workdir / "ca.pem"), *args],
            stdout=subprocess.PIPE,
            stderr=open(workdir / "emulator.log", "w"),
            text=True,
            start_new_session=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"{EMULATOR} printed no start line")
        self.info = json.loads(line)

    def env(self) -> dict:
        return {
            "ARM_ENDPOINT": self.info["armEndpoint"],
            "ARM_AUTHORITY_HOST": self.info["authorityHost"],
            "ARM_CA_CERT_FILE": self.info["caCertFile"],
            "ARM_SUBSCRIPTION_ID": self.info["subscriptionId"],
            "ARM_TENANT_ID": self.info["tenantId"],
            "ARM_CLIENT_ID": self.info["clientId"],
            "ARM_CLIENT_SECRET": self.info["clientSecret"],
            "ARM_USE_CLI": "false",
        }

    def call(self, method: str, path: str, body=None, token: bool = True):
        """An ARM (or control API) call; the JSON answer."""
        ctx = ssl.create_default_context(cafile=self.info["caCertFile"])
        req = urllib.request.Request(self.info["armEndpoint"] + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("content-type", "application/json")
        if token:
            form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": self.info["clientId"],
                                           "client_secret": self.info["clientSecret"],
                                           "scope": "https://management.azure.com/.default"}).encode()
            treq = urllib.request.Request(f"{self.info['authorityHost']}/{self.info['tenantId']}/oauth2/v2.0/token", data=form)
            with urllib.request.urlopen(treq, context=ctx, timeout=30) as r:
                req.add_header("authorization", "Bearer " + json.loads(r.read())["access_token"])
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            text = r.read().decode()
            return json.loads(text) if text.strip() else None

    def state(self) -> dict:
        ctx = ssl.create_default_context(cafile=self.info["caCertFile"])
        with urllib.request.urlopen(self.info["armEndpoint"] + "/_emulator/state", context=ctx, timeout=30) as r:
            return json.loads(r.read())


def base_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("ARM_", "AZURE_", "PULUMI_", "DATASNAP_"))}


def vm_status(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0])  # kB
    return out


def mib(kb: int) -> float:
    return round(kb / 1024, 1)


# --- (a) provider start ------------------------------------------------------------------


def bench_start() -> dict:
    log(f"provider start: {START_RUNS} launches of {PROVIDER.name}")
    times = []
    for i in range(START_RUNS + 2):
        t0 = time.perf_counter()
        p = subprocess.Popen([str(PROVIDER)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=base_env())
        line = p.stdout.readline()
        dt = (time.perf_counter() - t0) * 1000
        p.terminate()
        p.wait()
        if not line.strip().isdigit():
            raise RuntimeError(f"the provider printed {line!r}, not a port")
        if i >= 2:  # the first two warm the page cache
            times.append(dt)
    return {
        "runs": len(times),
        "median_ms": round(statistics.median(times), 2),
        "min_ms": round(min(times), 2),
        "max_ms": round(max(times), 2),
    }


# --- provider over gRPC (memory, Check/Diff latency) ----------------------------------------

BENCH_URN = "urn:pulumi:bench::bench::"
SNAPSHOT_TYPE = "datasnap:index:VersionedSnapshot"


class ProviderClient(Child):
    """`pulumi-resource-datasnap` started directly (its environment pointing at `emu`) and
    driven over one gRPC channel with the `pulumi` package's own stubs."""

    def __init__(self, workdir: Path, emu: Emulator):
        import grpc
        from google.protobuf import struct_pb2
        from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

        self.pb, self.struct_pb2, self.workdir = provider_pb2, struct_pb2, workdir
        env = base_env()
        env.update(emu.env())
        self.proc = subprocess.Popen([str(PROVIDER)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        self.port = int(self.proc.stdout.readline())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def struct(self, values: dict):
        st = self.struct_pb2.Struct()
        st.update(values)
        return st

    def handshake(self) -> None:
        self.stub.Handshake(self.pb.ProviderHandshakeRequest(
            root_directory=str(self.workdir), program_directory=str(self.workdir),
            configure_with_urn=True, supports_views=True, invoke_with_preview=True,
        ), timeout=30)

    def configure(self) -> None:
        """Configure with empty config: the Azure settings come from the ARM_* environment."""
        self.stub.Configure(self.pb.ConfigureRequest(
            args=self.struct({}), acceptSecrets=True, acceptResources=True,
            urn=BENCH_URN + "pulumi:providers:datasnap::default", name="default",
            type="pulumi:providers:datasnap",
        ), timeout=30)

    def stop(self) -> None:
        self.channel.close()
        super().stop()


def bench_memory(workdir: Path) -> dict:
    log("provider memory: Handshake, Configure and a getVersions Invoke over gRPC")
    with Emulator(workdir / "emu-memory") as emu, ProviderClient(workdir, emu) as prov:
        started = vm_status(prov.proc.pid)
        prov.handshake()
        handshake = vm_status(prov.proc.pid)
        prov.configure()
        time.sleep(0.2)
        configured = vm_status(prov.proc.pid)
        args = prov.struct({"resourceGroupName": "datasets-rg", "dataset": "bench"})
        resp = prov.stub.Invoke(prov.pb.InvokeRequest(tok="datasnap:index:getVersions", args=args), timeout=60)
        if resp.failures:
            raise RuntimeError(f"getVersions failed: {resp.failures}")
        time.sleep(0.2)
        invoked = vm_status(prov.proc.pid)
    return {
        "rss_at_start_mib": mib(started["VmRSS"]),
        "rss_after_handshake_mib": mib(handshake["VmRSS"]),
        "rss_after_configure_mib": mib(configured["VmRSS"]),
        "rss_after_invoke_mib": mib(invoked["VmRSS"]),
        "peak_rss_mib": mib(invoked["VmHWM"]),
    }


def latency(call, n: int) -> dict:
    """Times `call()` n times in a row (after 3 untimed calls); median and p90 in ms."""
    for _ in range(3):
        call()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    p90 = statistics.quantiles(times, n=10, method="inclusive")[8] if n > 1 else times[0]
    return {"calls": n, "median_ms": round(statistics.median(times), 2), "p90_ms": round(p90, 2),
            "min_ms": round(min(times), 2), "max_ms": round(max(times), 2)}


def bench_rpc(workdir: Path) -> dict:
    log(f"Check and Diff latency: {RPC_CALLS} sequential calls each on one gRPC channel")
    with Emulator(workdir / "emu-rpc", "--op-duration-ms", "0", "--retry-after-secs", "0") as emu, \
            ProviderClient(workdir, emu) as prov:
        prov.handshake()
        prov.configure()
        name = "s0000"
        ident = dict(urn=f"{BENCH_URN}{SNAPSHOT_TYPE}::{name}", name=name, type=SNAPSHOT_TYPE)
        news = prov.struct(snapshot_args(emu.info["subscriptionId"], 0))
        check_req = prov.pb.CheckRequest(olds=prov.struct({}), news=news, randomSeed=b"\0" * 32, **ident)

        def check():
            resp = prov.stub.Check(check_req, timeout=30)
            if resp.failures:
                raise RuntimeError(f"Check failed: {resp.failures}")
            return resp

        inputs = check().inputs
        created = prov.stub.Create(prov.pb.CreateRequest(properties=inputs, timeout=120, **ident), timeout=180)
        diff_req = prov.pb.DiffRequest(id=created.id, olds=created.properties, news=inputs, old_inputs=inputs, **ident)
        changes = prov.stub.Diff(diff_req, timeout=30).changes
        return {
            "check": latency(check, RPC_CALLS),
            "diff": latency(lambda: prov.stub.Diff(diff_req, timeout=30), RPC_CALLS),
            "diff_answer": prov.pb.DiffResponse.DiffChanges.Name(changes),
        }


# --- Pulumi programs -------------------------------------------------------------------------

# One program for every pulumi run: `count` resources, each either a VersionedSnapshot
# (kind=datasnap, the default) or a ComponentResource of the same name given the same
# arguments (kind=floor), which no provider serves: the engine's and the SDK's own cost.
PROGRAM = """\
import os

import pulumi
import pulumi_datasnap as datasnap


class Floor(pulumi.ComponentResource):
    def __init__(self, name, **props):
        super().__init__("bench:index:Floor", name, props)


config = pulumi.Config()
count = config.require_int("count")
make = Floor if config.get("kind") == "floor" else datasnap.VersionedSnapshot
sub = os.environ["ARM_SUBSCRIPTION_ID"]
# `spread`: the resources over 2 resource groups of 5 disks each (disk0..disk4), 10 datasets.
spread = config.get_bool("spread")
for i in range(count):
    group = ("datasets-rg", "datasets-rg2")[i % 2] if spread else "datasets-rg"
    disk_name = f"disk{i % 5}" if spread else "dataset-disk"
    make(
        f"s{i:04d}",
        resource_group_name=group,
        dataset=f"bench{i % 10:04d}" if spread else f"bench{i:04d}",
        version=str(i) if spread else "1",
        source_disk_id=f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/disks/{disk_name}",
        incremental=False,
    )
"""


def snapshot_args(subscription: str, i: int) -> dict:
    """The inputs PROGRAM gives resource i, as the engine passes them to the provider."""
    disk = f"/subscriptions/{subscription}/resourceGroups/datasets-rg/providers/Microsoft.Compute/disks/dataset-disk"
    return {"resourceGroupName": "datasets-rg", "dataset": f"bench{i:04d}", "version": "1",
            "sourceDiskId": disk, "incremental": False}


def pulumi_bin() -> str:
    p = shutil.which("pulumi")
    if not p:
        raise RuntimeError("the pulumi CLI is not on PATH: run the bench through `make bench`")
    return p


def default_parallel() -> int:
    out = subprocess.run([pulumi_bin(), "up", "--help"], capture_output=True, text=True, env=base_env()).stdout
    m = re.search(r"--parallel int32 .*\(default (\d+)\)", out)
    if not m:
        raise RuntimeError("could not read --parallel's default from `pulumi up --help`")
    return int(m.group(1))


class Stack:
    """PROGRAM in its own project folder and file backend, stack `bench`, with the Azure
    settings of `emu`; keyword arguments become stack config (count, kind)."""

    def __init__(self, workdir: Path, name: str, emu: Emulator, **config):
        self.name = name
        run = workdir / name
        self.dir = run / "project"
        self.dir.mkdir(parents=True)
        (run / "state").mkdir()
        (self.dir / "__main__.py").write_text(PROGRAM)
        (self.dir / "Pulumi.yaml").write_text(
            "name: datasnap-bench\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
            f"    virtualenv: {VENV}\nplugins:\n  providers:\n    - name: datasnap\n      path: {BIN_DIR}\n"
        )
        self.env = base_env()
        self.env.update(emu.env())
        self.env.update(
            PULUMI_HOME=str(workdir / "pulumi-home"),
            PULUMI_BACKEND_URL=f"file://{run / 'state'}",
            PULUMI_CONFIG_PASSPHRASE="",
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_DISABLE_REGISTRY_RESOLVE="true",
        )
        self.pulumi("stack", "init", "bench")
        for key, value in config.items():
            self.pulumi("config", "set", key, str(value))

    def pulumi(self, *args: str) -> subprocess.CompletedProcess:
        p = subprocess.run([pulumi_bin(), "--non-interactive", *args], cwd=self.dir, env=self.env,
                           capture_output=True, text=True, timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(f"{self.name}: `pulumi {' '.join(args)}` exited {p.returncode}\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
        return p

    def timed(self, *args: str) -> tuple[float, subprocess.CompletedProcess]:
        """Seconds the pulumi command took, and its result."""
        t0 = time.perf_counter()
        p = self.pulumi(*args)
        return time.perf_counter() - t0, p


def bench_snapshots(emu: Emulator) -> list:
    return [s for s in _items(emu.state().get("snapshots", [])) if (s.get("tags") or {}).get("datasnap.dataset", "").startswith("bench")]


def _items(v):
    return list(v.values()) if isinstance(v, dict) else list(v)


def summary(runs: list) -> dict:
    return {"median": round(statistics.median(runs), 2), "runs": [round(x, 2) for x in runs]}


# --- (c) pulumi up of 50 -----------------------------------------------------------------


def timed_up(workdir: Path, name: str, count: int, op_ms: int) -> float:
    """A fresh emulator (operations take op_ms) and a fresh stack; times `pulumi up`."""
    with Emulator(workdir / name / "emu", "--op-duration-ms", str(op_ms)) as emu:
        elapsed, p = Stack(workdir, name, emu, count=count).timed("up", "--yes", "--skip-preview")
        found = len(bench_snapshots(emu))
        if found != count:
            raise RuntimeError(f"{name}: expected {count} snapshots in the emulator, found {found}\n{p.stdout[-3000:]}")
    log(f"  {name}: {count} snapshot(s), operations {op_ms} ms: {elapsed:.2f} s")
    return elapsed


def bench_up(workdir: Path) -> dict:
    P = default_parallel()
    T = OP_MS / 1000
    log(f"pulumi up of {UP_COUNT}: engine parallelism P = {P} (default of `pulumi up --parallel`), T = {T:g} s, "
        f"median of {UP_REPEATS} runs each")
    timed_up(workdir, "warm-up", UP_COUNT, 0)  # warms the plugin cache and the venv's bytecode

    def median_of(name: str, count: int, op_ms: int) -> dict:
        return summary([timed_up(workdir, f"{name}-{i}", count, op_ms) for i in range(UP_REPEATS)])

    one0 = median_of("one-op0", 1, 0)
    base = median_of("baseline", UP_COUNT, 0)
    one = median_of("one-opT", 1, OP_MS)
    full = median_of("full", UP_COUNT, OP_MS)
    waves = math.ceil(UP_COUNT / P)
    ideal = one0["median"] + waves * T
    ideal_loose = base["median"] + waves * T
    return {
        "count": UP_COUNT,
        "op_seconds": T,
        "parallel": P,
        "parallel_source": f"`pulumi up --help` default (4 x GOMAXPROCS; {os.cpu_count()} CPUs here)",
        "waves": waves,
        "measured_seconds": full["median"],
        "measured_runs": full["runs"],
        "fixed_seconds": one0["median"],
        "fixed_runs": one0["runs"],
        "ideal_seconds": round(ideal, 2),
        "ratio_to_ideal": round(full["median"] / ideal, 3),
        "baseline50_seconds": base["median"],
        "baseline50_runs": base["runs"],
        "ideal_with_baseline50_seconds": round(ideal_loose, 2),
        "ratio_to_ideal_with_baseline50": round(full["median"] / ideal_loose, 3),
        "single_resource_seconds": one["median"],
        "single_resource_runs": one["runs"],
        "single_create_over_T": round((one["median"] - one0["median"]) / T, 3),
    }


# --- (e) previews beside the engine's floor ----------------------------------------------------


def interleaved(stacks: dict, repeats: int, *args: str) -> tuple[dict, dict]:
    """Runs `pulumi <args>` on each stack in turn (datasnap, floor, datasnap, ...), `repeats`
    rounds; per stack, the median seconds and the runs. The last run's output is kept."""
    runs = {kind: [] for kind in stacks}
    out = {}
    for i in range(repeats):
        for kind, st in stacks.items():
            elapsed, out[kind] = st.timed(*args)
            runs[kind].append(elapsed)
            log(f"  {st.name} #{i + 1}: `pulumi {' '.join(args)}` {elapsed:.2f} s")
    result = {kind: summary(r) for kind, r in runs.items()}
    result["ratio"] = round(result["datasnap"]["median"] / result["floor"]["median"], 3)
    return result, out


def bench_preview_creates(workdir: Path) -> dict:
    """A preview of PREVIEW_COUNT resources on a fresh stack (all creates), both kinds."""
    log(f"preview of {PREVIEW_COUNT} new resources, datasnap and floor interleaved, {PREVIEW_REPEATS} runs each")
    with Emulator(workdir / "emu-preview", "--op-duration-ms", "0", "--retry-after-secs", "0") as emu:
        stacks = {kind: Stack(workdir, f"preview-{kind}", emu, count=PREVIEW_COUNT, kind=kind) for kind in KINDS}
        result, out = interleaved(stacks, PREVIEW_REPEATS, "preview")
    for kind, p in out.items():  # the measure is wrong, not slow, if the preview planned something else
        m = re.search(r"\+ (\d+) to create", p.stdout)
        if not m or int(m.group(1)) < PREVIEW_COUNT:
            raise RuntimeError(f"preview-{kind}: expected {PREVIEW_COUNT}+ creates\n{p.stdout[-2000:]}")
    return {"count": PREVIEW_COUNT, **result}


def bench_preview_reads(workdir: Path) -> dict:
    """The ARM reads of the preview's checks: a preview of PREVIEW_COUNT creates spread over
    10 disks in 2 resource groups, against an emulator enforcing ARM's rate limits, counted
    by the emulator (`/_emulator/requests`)."""
    log(f"preview checks: ARM reads of a preview of {PREVIEW_COUNT} creates of 10 disks in 2 resource groups")
    with Emulator(workdir / "emu-reads", "--op-duration-ms", "0", "--retry-after-secs", "0", "--arm-rate-limits") as emu:
        sub = emu.info["subscriptionId"]
        emu.call("PUT", f"/subscriptions/{sub}/resourcegroups/datasets-rg2?api-version=2021-04-01", {"location": "westus"})
        for group in ("datasets-rg", "datasets-rg2"):
            for d in range(5):
                emu.call("PUT", f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/disks/disk{d}?api-version=2025-01-02",
                         {"location": "westus", "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 8}})
        st = Stack(workdir, "preview-reads", emu, count=PREVIEW_COUNT, spread="true")
        emu.call("DELETE", "/_emulator/requests", token=False)
        elapsed, p = st.timed("preview")
        counts = emu.call("GET", "/_emulator/requests", token=False)
    m = re.search(r"\+ (\d+) to create", p.stdout)
    if not m or int(m.group(1)) < PREVIEW_COUNT:
        raise RuntimeError(f"preview-reads: expected {PREVIEW_COUNT}+ creates\n{p.stdout[-2000:]}")
    return {"count": PREVIEW_COUNT, "seconds": round(elapsed, 2), **counts}


def bench_preview_no_change(workdir: Path) -> dict:
    """`pulumi up` of NOCHANGE_COUNT resources, then previews that find nothing to do."""
    log(f"no-change preview of {NOCHANGE_COUNT}: up once, then {PREVIEW_REPEATS} previews each, interleaved")
    with Emulator(workdir / "emu-nochange", "--op-duration-ms", "0", "--retry-after-secs", "0") as emu:
        stacks = {kind: Stack(workdir, f"nochange-{kind}", emu, count=NOCHANGE_COUNT, kind=kind) for kind in KINDS}
        for st in stacks.values():
            st.pulumi("up", "--yes", "--skip-preview")
        found = len(bench_snapshots(emu))
        if found != NOCHANGE_COUNT:
            raise RuntimeError(f"no-change: expected {NOCHANGE_COUNT} snapshots in the emulator, found {found}")
        result, _ = interleaved(stacks, PREVIEW_REPEATS, "preview", "--expect-no-changes")
    return {"count": NOCHANGE_COUNT, **result}


# --- (d) the emulator's own bench --------------------------------------------------------


def bench_emulator() -> dict:
    exe = ROOT / "target" / "release" / "examples" / "bench"
    if os.environ.get("DATASNAP_BENCH_SKIP_EMULATOR") or not exe.exists():
        return {"skipped": "run `make bench-emulator` (emulator/emulator.mk) for the emulator's GETs/s and RSS"}
    log("emulator: target/release/examples/bench (as `make bench-emulator`)")
    cmd = [str(exe), "--emulator", str(EMULATOR), "--cpu", "0"]
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        cmd = ["taskset", "-c", "1", *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    if p.returncode != 0:
        return {"error": f"exited {p.returncode}: {p.stderr[-500:]}"}
    out = {}
    for line in p.stdout.splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] not in ("measure", "---"):
            out[cells[0]] = cells[1]
    return out


# --- the table ---------------------------------------------------------------------------


def runs_note(runs: list) -> str:
    return "median of " + ", ".join(f"{x:.1f}" for x in runs)


def latency_row(name: str, r: dict) -> tuple:
    return (f"{name.capitalize()} over gRPC, {r['calls']} in a row on one channel", f"{r['median_ms']:.2f} ms", "",
            f"median; p90 {r['p90_ms']:.2f}, min {r['min_ms']:.2f}, max {r['max_ms']:.2f} ms")


def versus_floor_rows(title: str, r: dict) -> list:
    d, f = r["datasnap"], r["floor"]
    return [
        (title, f"{d['median']:.1f} s", "", runs_note(d["runs"])),
        (f"  floor: the same {r['count']} as ComponentResources", f"{f['median']:.1f} s", "", runs_note(f["runs"])),
        ("  ratio datasnap / floor", f"{r['ratio']:.2f}x", "", "interleaved runs, no provider in the floor"),
    ]


def main() -> int:
    for exe in (PROVIDER, EMULATOR):
        if not exe.exists():
            print(f"{exe} is missing: run `make build`", file=sys.stderr)
            return 1
    workdir = Path(tempfile.mkdtemp(prefix="datasnap-bench-"))
    try:
        start = bench_start()
        memory = bench_memory(workdir)
        rpc = bench_rpc(workdir)
        up = bench_up(workdir)  # its warm-up run also warms the venv and plugins for the previews
        no_change = bench_preview_no_change(workdir)
        creates = bench_preview_creates(workdir)
        reads = bench_preview_reads(workdir)
        emu = bench_emulator()
    finally:
        if not os.environ.get("DATASNAP_BENCH_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)

    rows = [
        ("provider start to port line (median of %d)" % start["runs"], f"{start['median_ms']:.1f} ms",
         "< 20 ms", f"min {start['min_ms']:.1f}, max {start['max_ms']:.1f} ms"),
        ("provider RSS after Handshake + Configure", f"{memory['rss_after_configure_mib']:.1f} MiB", "< 25 MB",
         f"start {memory['rss_at_start_mib']:.1f}, after handshake {memory['rss_after_handshake_mib']:.1f} MiB"),
        ("provider RSS after one getVersions Invoke", f"{memory['rss_after_invoke_mib']:.1f} MiB", "",
         f"peak {memory['peak_rss_mib']:.1f} MiB (token, TLS, one ARM list)"),
        *(latency_row(name, rpc[name]) for name in ("check", "diff")),
        (f"pulumi up of {up['count']} snapshots, T = {up['op_seconds']:g} s", f"{up['measured_seconds']:.1f} s", "",
         f"P = {up['parallel']} (pulumi's default); " + runs_note(up["measured_runs"])),
        ("  fixed cost: up of 1 snapshot, T = 0", f"{up['fixed_seconds']:.1f} s", "", "CLI, engine, Python program, provider start, one create"),
        (f"  ideal: fixed + ceil({up['count']}/{up['parallel']}) x T", f"{up['ideal_seconds']:.1f} s", "",
         f"{up['waves']} rounds of {up['op_seconds']:g} s"),
        ("  ratio measured / ideal", f"{up['ratio_to_ideal']:.2f}x", "<= 1.25x", ""),
        (f"  ratio to (up of {up['count']} at T = 0) + {up['waves']} x T", f"{up['ratio_to_ideal_with_baseline50']:.2f}x", "",
         f"{up['baseline50_seconds']:.1f} s + {up['waves'] * up['op_seconds']:g} s = {up['ideal_with_baseline50_seconds']:.1f} s (looser: counts per-resource work twice)"),
        ("  one snapshot: (up at T) - (up at 0), in T", f"{up['single_create_over_T']:.2f} T", "",
         f"{up['single_resource_seconds']:.1f} s - {up['fixed_seconds']:.1f} s"),
        *versus_floor_rows(f"pulumi preview of {creates['count']} new snapshots (all creates)", creates),
        *versus_floor_rows(f"no-change pulumi preview of {no_change['count']} snapshots", no_change),
        (f"preview checks: ARM reads of a preview of {reads['count']} creates (10 disks, 2 resource groups)",
         str(reads["reads"]), "a few dozen", f"{reads['seconds']:.1f} s with ARM's rate limits on; writes {reads['writes']}, deletes {reads['deletes']}"),
    ]
    if "skipped" in emu or "error" in emu:
        rows.append(("emulator GETs/s (make bench-emulator)", "-", "", emu.get("skipped") or emu.get("error")))
    else:
        gets = next((v for k, v in emu.items() if "GETs per second" in k), "?")
        rss = "; ".join(f"{k} {v}" for k, v in emu.items() if k.startswith("RSS"))
        rows.append(("emulator GETs/s on one core (make bench-emulator)", gets, "", rss))

    w = [max(len(r[i]) for r in rows + [("measure", "value", "target", "notes")]) for i in range(4)]
    line = lambda r: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |"
    print(line(("measure", "value", "target", "notes")))
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        print(line(r))

    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "provider_start": start,
        "provider_memory": memory,
        "rpc_latency": rpc,
        "pulumi_up": up,
        "preview_creates": creates,
        "preview_no_change": no_change,
        "preview_reads": reads,
        "emulator": emu,
        "table": [dict(zip(("measure", "value", "target", "notes"), r)) for r in rows],
    }
    (out / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
