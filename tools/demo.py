"""`make demo`: datasnap end to end against the local Azure emulator.

1. Starts `datasnap-emulator` (seeded with resource group `datasets-rg` and the 64 GiB
   disk `dataset-disk`; every Azure operation takes 500 ms so progress is visible).
2. examples/python: `pulumi up` takes version 1 of the dataset; bumping the version and
   running `up` again takes version 2, and both versions exist in Azure.
3. examples/python-versioning: v1 -> v2 with lineage metadata, lists the versions, promotes
   v2 to the protected alias `production` (Azure then refuses a direct DELETE of its
   snapshot: 409 ScopeLocked), restores v1 to a new disk (the rollback) and `production` to
   another, exports `production` as a read-only SAS link (a secret output), then takes v3
   with `keepLast: 2`, which prunes v1 and keeps v2 (aliased and exported).
4. Stops the emulator, also on Ctrl-C or an error, and removes its temporary folder.

Everything runs in a temporary folder (state, PULUMI_HOME, projects); nothing is written
to the repository. Exit status is non-zero on any failure. DATASNAP_DEMO_KEEP=1 keeps the
temporary folder for inspection. Python standard library only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = (ROOT / os.environ.get("DATASNAP_BIN_DIR", "bin")).resolve()
VENV = ROOT / ".venv"
OP_DURATION_MS = 500

BOLD = "\033[1m" if sys.stdout.isatty() else ""
DIM = "\033[2m" if sys.stdout.isatty() else ""
RESET = "\033[0m" if sys.stdout.isatty() else ""


class DemoError(Exception):
    pass


# The signal that interrupted the demo, if any.
INTERRUPTED: dict = {}


def on_signal(signum, _frame):
    INTERRUPTED["signal"] = signal.Signals(signum).name
    raise KeyboardInterrupt(INTERRUPTED["signal"])


def heading(text: str) -> None:
    print(f"\n{BOLD}==> {text}{RESET}", flush=True)


def say(text: str) -> None:
    print(f"    {text}", flush=True)


def check(cond: bool, what: str) -> None:
    if not cond:
        raise DemoError(what)
    say(f"ok: {what}")


# --- the emulator ------------------------------------------------------------------------


class Emulator:
    """A running `datasnap-emulator serve --seed`, stopped by stop()."""

    def __init__(self, workdir: Path, *args: str):
        exe = BIN_DIR / "datasnap-emulator"
        if not exe.exists():
            raise DemoError(f"{exe} is missing: run `make build`")
        self.log = open(workdir / "emulator.log", "w")
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--seed", "--ca-file", str(workdir / "emulator-ca.pem"), *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            start_new_session=True,  # a Ctrl-C reaches pulumi, not the emulator: we stop it last
        )
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise DemoError(f"{exe} printed no start line (see {workdir / 'emulator.log'})")
        self.info = json.loads(line)
        self.ssl = ssl.create_default_context(cafile=self.info["caCertFile"])
        self._token = None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def env(self) -> dict:
        """The provider's Azure settings: the emulator as a private cloud."""
        return {
            "ARM_ENDPOINT": self.info["armEndpoint"],
            "ARM_AUTHORITY_HOST": self.info["authorityHost"],
            "ARM_CA_CERT_FILE": self.info["caCertFile"],
            "ARM_SUBSCRIPTION_ID": self.info["subscriptionId"],
            "ARM_TENANT_ID": self.info["tenantId"],
            "ARM_CLIENT_ID": self.info["clientId"],
            "ARM_CLIENT_SECRET": self.info["clientSecret"],
            "ARM_USE_CLI": "false",
            "DATASNAP_POLL_INTERVAL_MS": "100",
        }

    def _get(self, path: str, token: bool = False):
        req = urllib.request.Request(self.info["armEndpoint"] + path)
        if token:
            req.add_header("authorization", "Bearer " + self.token())
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def delete_arm(self, arm_id: str):
        """A DELETE sent straight to the emulator's ARM endpoint, as the portal would send it."""
        req = urllib.request.Request(f"{self.info['armEndpoint']}{arm_id}?api-version=2025-01-02", method="DELETE")
        req.add_header("authorization", "Bearer " + self.token())
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def token(self) -> str:
        if self._token is None:
            form = urllib.parse.urlencode({
                "grant_type": "client_credentials",
                "client_id": self.info["clientId"],
                "client_secret": self.info["clientSecret"],
                "scope": "https://management.azure.com/.default",
            }).encode()
            url = f"{self.info['authorityHost']}/{self.info['tenantId']}/oauth2/v2.0/token"
            with urllib.request.urlopen(urllib.request.Request(url, data=form), context=self.ssl, timeout=30) as r:
                self._token = json.loads(r.read())["access_token"]
        return self._token

    def state(self) -> dict:
        return self._get("/_emulator/state")[1]

    def versions(self, dataset: str) -> list[tuple[str, str, bool]]:
        """(version, snapshot name, retained) of a dataset's snapshots in the emulator."""
        out = []
        for s in _items(self.state().get("snapshots", [])):
            tags = s.get("tags") or {}
            if tags.get("datasnap.dataset") == dataset:
                out.append((tags.get("datasnap.version", "?"), s["name"], tags.get("datasnap.retained") == "true"))
        return sorted(out, key=lambda v: _version_key(v[0]))

    def get_arm(self, arm_id: str) -> dict | None:
        status, body = self._get(f"{arm_id}?api-version=2025-01-02", token=True)
        return body if status == 200 else None


def _items(v):
    return list(v.values()) if isinstance(v, dict) else list(v)


def _version_key(v: str):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in v.replace("-", ".").split(".")]


# --- pulumi ------------------------------------------------------------------------------


class Project:
    """A copy of an example program in the temporary folder, with its own stack `dev`."""

    def __init__(self, workdir: Path, example: str, emu: Emulator):
        self.dir = workdir / example
        self.dir.mkdir(parents=True)
        src = ROOT / "examples" / example
        for f in src.iterdir():
            if f.is_file() and f.name != "Pulumi.yaml":
                shutil.copy(f, self.dir / f.name)
        # The example's Pulumi.yaml, pointed at the repository's venv and bin/.
        text = (src / "Pulumi.yaml").read_text().replace("virtualenv: venv", f"virtualenv: {VENV}")
        text += f"plugins:\n  providers:\n    - name: datasnap\n      path: {BIN_DIR}\n"
        (self.dir / "Pulumi.yaml").write_text(text)
        state = workdir / f"state-{example}"
        state.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ARM_", "AZURE_", "PULUMI_"))}
        self.env.update(emu.env())
        self.env.update(
            PULUMI_HOME=str(workdir / "pulumi-home"),
            PULUMI_BACKEND_URL=f"file://{state}",
            PULUMI_CONFIG_PASSPHRASE="",
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_DISABLE_REGISTRY_RESOLVE="true",
        )
        self.pulumi = shutil.which("pulumi", path=self.env.get("PATH"))
        if not self.pulumi:
            raise DemoError("the pulumi CLI is not on PATH: run the demo through `make demo`")
        self.run("stack", "init", "dev", quiet=True)

    def run(self, *args: str, quiet: bool = False, check: bool = True) -> tuple[int, str]:
        """Runs `pulumi <args>`, echoing its output (indented) unless quiet."""
        cmd = [self.pulumi, "--non-interactive", *args]
        if not quiet:
            say(f"{DIM}$ pulumi {' '.join(args)}{RESET}")
        p = subprocess.Popen(cmd, cwd=self.dir, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []

        def echo(line: str) -> None:
            lines.append(line)
            if not quiet and line.strip() and not line.startswith("@ "):
                say(f"{DIM}|{RESET} {line.rstrip()}")

        try:
            for line in p.stdout:
                echo(line)
            rc = p.wait()
        except BaseException:
            # Ctrl-C reaches pulumi too (same process group) and it cancels gracefully. On
            # any other way out (SIGTERM to us only, an error) ask it to cancel likewise.
            if INTERRUPTED.get("signal") != "SIGINT" and p.poll() is None:
                p.send_signal(signal.SIGINT)
            try:
                if p.poll() is None:
                    say("waiting for pulumi to cancel (Ctrl-C again to stop it at once)")
                for line in p.stdout:
                    echo(line)
                p.wait(timeout=30)
            except BaseException:
                p.kill()
                p.wait()
            raise
        out = "".join(lines)
        if check and rc != 0:
            if quiet:
                print(out)
            raise DemoError(f"`pulumi {' '.join(args)}` exited {rc}")
        return rc, out

    def config(self, **values: str) -> None:
        for k, v in values.items():
            self.run("config", "set", k, str(v), quiet=True)

    def config_rm(self, key: str) -> None:
        self.run("config", "rm", key, quiet=True)

    def up(self) -> str:
        return self.run("up", "--yes", "--skip-preview", "--suppress-outputs")[1]

    def outputs(self) -> dict:
        return json.loads(self.run("stack", "output", "--json", quiet=True)[1])


# --- the walk-through ---------------------------------------------------------------------


def part_one(workdir: Path, emu: Emulator) -> None:
    heading("examples/python: `pulumi up` takes version 1 of dataset training-data")
    p = Project(workdir, "python", emu)
    p.config(
        resourceGroupName="datasets-rg",
        managedDiskName="dataset-disk",
        # No subscriptionId: the program takes the provider's, from ARM_SUBSCRIPTION_ID.
        datasetVersion="1",
    )
    p.up()
    v1 = p.outputs()["snapshot_id"]
    say(f"snapshot_id = {BOLD}{v1}{RESET}")

    heading("examples/python: bump datasetVersion to 2 and `pulumi up` again")
    p.config(datasetVersion="2")
    p.up()
    v2 = p.outputs()["snapshot_id"]
    say(f"snapshot_id = {BOLD}{v2}{RESET}")

    heading("Both versions exist in Azure (the emulator's state)")
    vs = emu.versions("training-data")
    for version, name, retained in vs:
        say(f"version {version:<3} snapshot {name:<22} {'retained (released by the stack)' if retained else 'held by the stack'}")
    check([v for v, _, _ in vs] == ["1", "2"], "training-data has versions 1 and 2; version 1 was kept under deletionPolicy Retain")


def print_versions(outputs: dict) -> list[str]:
    """Prints the exported getVersions listing; returns its version strings."""
    versions = outputs.get("versions") or []
    for v in versions:
        meta = ", ".join(f"{k}={val}" for k, val in sorted(v.get("metadata", {}).items()))
        marks = [f"alias {a}" for a in v.get("aliases") or []]
        if v["version"] == outputs.get("version"):
            marks.append("<- this stack")
        mark = "  ".join(marks)
        say(f"version {v['version']:<3} {v['snapshot_id'].rsplit('/', 1)[-1]:<11} "
            f"created {v['time_created'][:19]}  {meta}  {mark}")
    say(f"latest = {outputs.get('latest_version')}")
    return [v["version"] for v in versions]


def part_two(workdir: Path, emu: Emulator) -> None:
    dataset = "images"
    heading(f"examples/python-versioning: version 1 of dataset {dataset}, keepLast 2")
    p = Project(workdir, "python-versioning", emu)
    p.config(
        dataset=dataset,
        datasetVersion="1",
        keepLast="2",
        gitCommit="a1b2c3d",
    )
    p.up()
    v1_id = p.outputs()["snapshot_id"]
    say(f"v1 snapshot_id = {v1_id}")

    heading("Version 2 (new lineage metadata); version 1 stays as a retained version")
    p.config(datasetVersion="2", gitCommit="e4f5a6b", parentVersion="1")
    p.up()

    heading("List the versions (getVersions, exported as `versions`)")
    out = p.outputs()
    check(print_versions(out) == ["1", "2"], "getVersions lists versions 1 and 2, oldest first")
    v2_id = out["snapshot_id"]

    heading("Promote version 2 to production (protected: Azure locks it)")
    p.config(productionVersion="2")
    p.up()
    out = p.outputs()
    print_versions(out)
    aliases = {v["version"]: v.get("aliases") for v in out.get("versions") or []}
    check(aliases == {"1": [], "2": ["production"]}, "getVersions lists the alias production on version 2")
    snap = emu.get_arm(v2_id) or {}
    alias_tag = "datasnap.alias.production"
    say(f"version 2's snapshot tag {alias_tag} = {(snap.get('tags') or {}).get(alias_tag)!r}")
    check(alias_tag in (snap.get("tags") or {}), f"the emulator shows the tag {alias_tag} on version 2's snapshot")
    say(f"DELETE {v2_id} sent straight to Azure (the emulator's ARM endpoint), as the portal would:")
    status, body = emu.delete_arm(v2_id)
    code = ((body or {}).get("error") or {}).get("code")
    say(f"  -> {status} {code}: {((body or {}).get('error') or {}).get('message', '')[:110]}...")
    check(status == 409 and code == "ScopeLocked",
          "Azure refused to delete version 2: 409 ScopeLocked (the alias's CanNotDelete lock datasnap-alias-production)")
    check(emu.get_arm(v2_id) is not None, "version 2's snapshot is still there")

    heading("Roll back: restore version 1 to a new managed disk (RestoredDisk)")
    p.config(restoreVersion="1")
    p.up()
    out = p.outputs()
    disk_id = out["restored_disk_id"]
    say(f"restored_disk_id     = {disk_id}")
    say(f"restored_version     = {out.get('restored_version')}")
    disk = emu.get_arm(disk_id)
    if disk is None:
        raise DemoError(f"the restored disk {disk_id} is not in Azure")
    source = disk["properties"]["creationData"].get("sourceResourceId")
    say(f"disk creationData    = {disk['properties']['creationData'].get('createOption')} from {source}")
    check(source is not None and source.lower() == v1_id.lower(), "the disk was created from version 1's snapshot")

    heading("Restore production: a disk from the version the alias points at (RestoredDisk alias=)")
    p.config(restoreAlias="production")
    p.up()
    out = p.outputs()
    prod_disk_id = out["restored_alias_disk_id"]
    say(f"restored_alias_disk_id  = {prod_disk_id}")
    say(f"restored_alias_version  = {out.get('restored_alias_version')}")
    disk = emu.get_arm(prod_disk_id)
    if disk is None:
        raise DemoError(f"the restored disk {prod_disk_id} is not in Azure")
    source = disk["properties"]["creationData"].get("sourceResourceId")
    say(f"disk creationData       = {disk['properties']['creationData'].get('createOption')} from {source}")
    check(source is not None and source.lower() == v2_id.lower(), "the disk was created from version 2's snapshot, production's")

    heading("Export production: a read-only SAS link to version 2 (VersionExport, 3600 s)")
    p.config(exportAlias="production")
    p.up()
    out = p.outputs()
    say(f"exported_version  = {out.get('exported_version')}")
    say(f"export_expires_at = {out.get('export_expires_at')}")
    shown = p.run("stack", "output", "export_url")[1].strip()
    check(shown == "[secret]", "`pulumi stack output export_url` prints [secret]: the link is a secret output")
    url = p.run("stack", "output", "export_url", "--show-secrets", quiet=True)[1].strip()
    say(f"$ pulumi stack output export_url --show-secrets  ->  {url.split('?', 1)[0]}?<SAS token>")
    check(url.startswith("https://") and "?" in url, "`--show-secrets` gives the SAS URL")
    check(((emu.get_arm(v2_id) or {}).get("properties") or {}).get("diskState") == "ActiveSAS",
          "Azure shows version 2's snapshot with an active SAS (diskState ActiveSAS)")

    heading("Version 3 with keepLast 2: preview warns, up prunes the oldest retained version")
    p.config(datasetVersion="3", gitCommit="c7d8e9f", parentVersion="2")
    p.run("preview", "--suppress-outputs")
    log = p.up()
    pruned = sorted({line.strip() for line in log.splitlines() if line.strip().startswith("retention: pruned")})
    say("pruned, from the engine log:")
    for line in pruned or ["(none)"]:
        say(f"  {line}")
    check(any('version "1"' in line for line in pruned), "the engine log reports that version 1 was pruned")

    heading("Versions after retention")
    remaining = print_versions(p.outputs())
    in_azure = [v for v, _, _ in emu.versions(dataset)]
    say(f"in Azure: {dataset} versions {', '.join(in_azure)}")
    check(remaining == ["2", "3"] and in_azure == ["2", "3"], "exactly versions 2 and 3 remain")
    check("production" in (p.outputs()["versions"][0].get("aliases") or []), "production still points at version 2")
    check([v for v, _, _ in emu.versions("training-data")] == ["1", "2"], "dataset training-data was not touched")
    check(emu.get_arm(disk_id) is not None, "the disk restored from version 1 still exists after v1 was pruned")

    heading("Converged: `pulumi preview --expect-no-changes`")
    p.run("preview", "--expect-no-changes", "--suppress-outputs")


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="datasnap-demo-"))
    emu = None
    started = time.monotonic()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        heading(f"Starting the local Azure emulator (each operation takes {OP_DURATION_MS} ms)")
        emu = Emulator(workdir, "--op-duration-ms", str(OP_DURATION_MS))
        say(f"ARM endpoint {emu.info['armEndpoint']}, subscription {emu.info['subscriptionId']}")
        say("seeded: resource group datasets-rg (westus), managed disk dataset-disk (64 GiB)")
        say(f"work folder: {workdir}")
        part_one(workdir, emu)
        part_two(workdir, emu)
        heading(f"Demo complete in {time.monotonic() - started:.0f} s")
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: stopping", file=sys.stderr)
        return 130
    except DemoError as e:
        if INTERRUPTED:
            print(f"\ninterrupted ({INTERRUPTED['signal']}): stopping", file=sys.stderr)
            return 130
        print(f"\ndemo failed: {e}", file=sys.stderr)
        if emu is not None:
            print(f"emulator log: {workdir / 'emulator.log'}", file=sys.stderr)
        os.environ["DATASNAP_DEMO_KEEP"] = "1"
        return 1
    finally:
        if emu is not None:
            emu.stop()
            say("emulator stopped")
        if os.environ.get("DATASNAP_DEMO_KEEP"):
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
