"""`make bench`: datasnap's performance table (measurements only, no pass/fail).

| measure | how |
| --- | --- |
| provider start | launch `pulumi-resource-datasnap` N times (after 2 warm-up launches); time from spawn to its port line on stdout; median, min, max |
| provider memory | VmRSS from /proc of a provider driven over gRPC (Pulumi's own stubs, `pulumi.runtime.proto`): after Handshake, after Configure (Azure settings from ARM_* pointing at the emulator), and after one getVersions Invoke (token, TLS, a list call) |
| `pulumi up` of 50 | a Python program with 50 VersionedSnapshots (full snapshots, `incremental=False`, of the seeded disk) against a fresh emulator whose every long-running operation takes T = 2 s; compared with the ideal time Pulumi's parallelism allows |
| emulator | `make bench-emulator`'s GETs/s, when its load generator is already built |

Ideal time for the 50: `fixed + ceil(50 / P) * T`, where `fixed` is `pulumi up` of the same
program with 1 snapshot against an emulator that answers every operation at once (T = 0): the
fixed cost of the CLI, the engine, the Python program, the provider's start and one create.
The table also shows the looser ideal with `fixed` = the up of all 50 at T = 0, which counts
the per-resource work (overlapped with the waits in the real run) on top of the waits. P is the engine's parallelism: `pulumi up` runs at most P resource operations at once,
and its default in v3.274 is 4 x GOMAXPROCS (pkg/cmd/pulumi/operations/up.go,
`defaultParallel`), read here from `pulumi up --help`. Ratio = measured / ideal.

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


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --- helpers -----------------------------------------------------------------------------


class Emulator:
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

    def state(self) -> dict:
        ctx = ssl.create_default_context(cafile=self.info["caCertFile"])
        with urllib.request.urlopen(self.info["armEndpoint"] + "/_emulator/state", context=ctx, timeout=30) as r:
            return json.loads(r.read())

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


# --- (b) provider memory -----------------------------------------------------------------


def bench_memory(workdir: Path) -> dict:
    log("provider memory: Handshake, Configure and a getVersions Invoke over gRPC")
    import grpc
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    with Emulator(workdir / "emu-memory") as emu:
        env = base_env()
        env.update(emu.env())
        p = subprocess.Popen([str(PROVIDER)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        try:
            port = int(p.stdout.readline())
            started = vm_status(p.pid)
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            stub.Handshake(provider_pb2.ProviderHandshakeRequest(
                root_directory=str(workdir), program_directory=str(workdir),
                configure_with_urn=True, supports_views=True, invoke_with_preview=True,
            ), timeout=30)
            handshake = vm_status(p.pid)
            stub.Configure(provider_pb2.ConfigureRequest(
                args=struct_pb2.Struct(), acceptSecrets=True, acceptResources=True,
                urn="urn:pulumi:bench::bench::pulumi:providers:datasnap::default", name="default",
                type="pulumi:providers:datasnap",
            ), timeout=30)
            time.sleep(0.2)
            configured = vm_status(p.pid)
            args = struct_pb2.Struct()
            args.update({"resourceGroupName": "datasets-rg", "dataset": "bench"})
            resp = stub.Invoke(provider_pb2.InvokeRequest(tok="datasnap:index:getVersions", args=args), timeout=60)
            if resp.failures:
                raise RuntimeError(f"getVersions failed: {resp.failures}")
            time.sleep(0.2)
            invoked = vm_status(p.pid)
            channel.close()
        finally:
            p.terminate()
            p.wait()
    return {
        "rss_at_start_mib": mib(started["VmRSS"]),
        "rss_after_handshake_mib": mib(handshake["VmRSS"]),
        "rss_after_configure_mib": mib(configured["VmRSS"]),
        "rss_after_invoke_mib": mib(invoked["VmRSS"]),
        "peak_rss_mib": mib(invoked["VmHWM"]),
    }


# --- (c) pulumi up of 50 -----------------------------------------------------------------

PROGRAM = '''\
import os

import pulumi
import pulumi_datasnap as datasnap

count = pulumi.Config().require_int("count")
sub = os.environ["ARM_SUBSCRIPTION_ID"]
disk = f"/subscriptions/{sub}/resourceGroups/datasets-rg/providers/Microsoft.Compute/disks/dataset-disk"
for i in range(count):
    datasnap.VersionedSnapshot(
        f"s{i:03d}",
        resource_group_name="datasets-rg",
        dataset=f"bench{i:03d}",
        version="1",
        source_disk_id=disk,
        incremental=False,
    )
'''


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


def timed_up(workdir: Path, name: str, count: int, op_ms: int) -> dict:
    """A fresh emulator (operations take op_ms) and a fresh stack; times `pulumi up`."""
    run = workdir / name
    proj = run / "project"
    proj.mkdir(parents=True)
    (run / "state").mkdir()
    (proj / "__main__.py").write_text(PROGRAM)
    (proj / "Pulumi.yaml").write_text(
        "name: datasnap-bench\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {VENV}\nplugins:\n  providers:\n    - name: datasnap\n      path: {BIN_DIR}\n"
    )
    with Emulator(run / "emu", "--op-duration-ms", str(op_ms)) as emu:
        env = base_env()
        env.update(emu.env())
        env.update(
            PULUMI_HOME=str(workdir / "pulumi-home"),
            PULUMI_BACKEND_URL=f"file://{run / 'state'}",
            PULUMI_CONFIG_PASSPHRASE="",
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_DISABLE_REGISTRY_RESOLVE="true",
        )

        def pulumi(*args: str) -> subprocess.CompletedProcess:
            p = subprocess.run([pulumi_bin(), "--non-interactive", *args], cwd=proj, env=env, capture_output=True, text=True, timeout=1800)
            if p.returncode != 0:
                raise RuntimeError(f"`pulumi {' '.join(args)}` exited {p.returncode}\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
            return p

        pulumi("stack", "init", "bench")
        pulumi("config", "set", "count", str(count))
        t0 = time.perf_counter()
        p = pulumi("up", "--yes", "--skip-preview")
        elapsed = time.perf_counter() - t0
        snaps = [s for s in _items(emu.state().get("snapshots", [])) if (s.get("tags") or {}).get("datasnap.dataset", "").startswith("bench")]
        if len(snaps) != count:
            raise RuntimeError(f"{name}: expected {count} snapshots in the emulator, found {len(snaps)}\n{p.stdout[-3000:]}")
    log(f"  {name}: {count} snapshot(s), operations {op_ms} ms: {elapsed:.2f} s")
    return {"count": count, "op_ms": op_ms, "seconds": round(elapsed, 2)}


def _items(v):
    return list(v.values()) if isinstance(v, dict) else list(v)


def bench_up(workdir: Path) -> dict:
    P = default_parallel()
    T = OP_MS / 1000
    log(f"pulumi up of {UP_COUNT}: engine parallelism P = {P} (default of `pulumi up --parallel`), T = {T:g} s, "
        f"median of {UP_REPEATS} runs each")
    timed_up(workdir, "warm-up", UP_COUNT, 0)  # warms the plugin cache and the venv's bytecode

    def median_of(name: str, count: int, op_ms: int) -> dict:
        runs = [timed_up(workdir, f"{name}-{i}", count, op_ms)["seconds"] for i in range(UP_REPEATS)]
        return {"median": round(statistics.median(runs), 2), "runs": runs}

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


def main() -> int:
    for exe in (PROVIDER, EMULATOR):
        if not exe.exists():
            print(f"{exe} is missing: run `make build`", file=sys.stderr)
            return 1
    workdir = Path(tempfile.mkdtemp(prefix="datasnap-bench-"))
    try:
        start = bench_start()
        memory = bench_memory(workdir)
        up = bench_up(workdir)
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
        (f"pulumi up of {up['count']} snapshots, T = {up['op_seconds']:g} s", f"{up['measured_seconds']:.1f} s", "",
         f"P = {up['parallel']} (pulumi's default); median of " + ", ".join(f"{x:.1f}" for x in up["measured_runs"])),
        ("  fixed cost: up of 1 snapshot, T = 0", f"{up['fixed_seconds']:.1f} s", "", "CLI, engine, Python program, provider start, one create"),
        (f"  ideal: fixed + ceil({up['count']}/{up['parallel']}) x T", f"{up['ideal_seconds']:.1f} s", "",
         f"{up['waves']} rounds of {up['op_seconds']:g} s"),
        ("  ratio measured / ideal", f"{up['ratio_to_ideal']:.2f}x", "<= 1.25x", ""),
        (f"  ratio to (up of {up['count']} at T = 0) + {up['waves']} x T", f"{up['ratio_to_ideal_with_baseline50']:.2f}x", "",
         f"{up['baseline50_seconds']:.1f} s + {up['waves'] * up['op_seconds']:g} s = {up['ideal_with_baseline50_seconds']:.1f} s (looser: counts per-resource work twice)"),
        ("  one snapshot: (up at T) - (up at 0), in T", f"{up['single_create_over_T']:.2f} T", "",
         f"{up['single_resource_seconds']:.1f} s - {up['fixed_seconds']:.1f} s"),
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
        "pulumi_up": up,
        "emulator": emu,
        "table": [dict(zip(("measure", "value", "target", "notes"), r)) for r in rows],
    }
    (out / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
