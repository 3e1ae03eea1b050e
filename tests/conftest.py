"""End-to-end harness: the real `pulumi` CLI running Python programs against our provider.

Every test gets its own PULUMI_HOME, file backend and stack, so tests never share state.
Programs run in the repository's .venv (which has `pulumi` and our generated SDK), and the
engine finds `pulumi-resource-datasnap` through `plugins.providers` pointing at bin/.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(os.environ.get("DATASNAP_BIN_DIR", ROOT / "bin"))
VENV = ROOT / ".venv"


def pulumi_bin() -> str:
    d = os.environ.get("DATASNAP_PULUMI_DIR")
    if d:
        return str(Path(d) / "pulumi")
    found = shutil.which("pulumi")
    if not found:
        pytest.fail("the pulumi CLI is not on PATH: run the tests through `make test`")
    return found


@dataclass
class Stack:
    """A Pulumi project in a temporary folder, with its own state and stack `dev`."""

    dir: Path
    env: dict
    name: str = "dev"
    log: list = field(default_factory=list)

    def run(self, *args: str, check: bool = True, timeout: int = 600, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        env = dict(self.env)
        if extra_env:
            env.update(extra_env)
        cmd = [pulumi_bin(), "--non-interactive", *args]
        p = subprocess.run(cmd, cwd=self.dir, env=env, capture_output=True, text=True, timeout=timeout)
        self.log.append((cmd, p.returncode, p.stdout, p.stderr))
        if check and p.returncode != 0:
            raise AssertionError(
                f"`pulumi {' '.join(args)}` exited {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}"
            )
        return p

    def config(self, key: str, value: str, secret: bool = False) -> None:
        self.run("config", "set", *(["--secret"] if secret else []), key, value, "--stack", self.name)

    def preview_json(self, *args: str) -> dict:
        p = self.run("preview", "--json", "--stack", self.name, *args)
        return json.loads(p.stdout)

    def up(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("up", "--yes", "--skip-preview", "--stack", self.name, *args, check=check)

    def outputs(self) -> dict:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets", "--stack", self.name).stdout)

    def state(self) -> dict:
        return json.loads(self.run("stack", "export", "--show-secrets", "--stack", self.name).stdout)


def write_project(dest: Path, program: Path | str, name: str = "datasnap-test") -> None:
    """Copies a program (a folder with __main__.py, or source text) and writes a Pulumi.yaml
    that uses the repository's venv and bin/."""
    dest.mkdir(parents=True, exist_ok=True)
    if isinstance(program, Path):
        for f in program.iterdir():
            if f.name not in ("Pulumi.yaml", "venv") and f.is_file():
                shutil.copy(f, dest / f.name)
    else:
        (dest / "__main__.py").write_text(program)
    (dest / "Pulumi.yaml").write_text(
        f"name: {name}\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {VENV}\n"
        "plugins:\n"
        "  providers:\n"
        "    - name: datasnap\n"
        f"      path: {BIN_DIR}\n"
    )


@pytest.fixture
def make_stack(tmp_path):
    """Returns a function that sets up a project and its stack from a program."""

    def make(program: Path | str, env: dict | None = None, name: str = "datasnap-test") -> Stack:
        n = len(list(tmp_path.glob("proj-*")))
        home = tmp_path / "pulumi-home"
        state = tmp_path / f"state-{n}"
        state.mkdir(exist_ok=True)
        proj = tmp_path / f"proj-{n}"
        write_project(proj, program, name)
        e = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ARM_", "AZURE_", "PULUMI_", "ACTIONS_ID_TOKEN"))
        }
        e.update(
            PULUMI_HOME=str(home),
            PULUMI_BACKEND_URL=f"file://{state}",
            PULUMI_CONFIG_PASSPHRASE="",
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_DISABLE_REGISTRY_RESOLVE="true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
        )
        e.update(env or {})
        st = Stack(dir=proj, env=e)
        st.run("stack", "init", st.name)
        return st

    return make


class Emulator:
    """A running `datasnap-emulator serve`, with its start line and control API."""

    def __init__(self, proc: subprocess.Popen, info: dict):
        self.proc = proc
        self.info = info
        self.ssl = ssl.create_default_context(cafile=info["caCertFile"])

    def env(self, **overrides: str) -> dict:
        """The provider's environment for this emulator (as a private cloud)."""
        e = {
            "ARM_ENDPOINT": self.info["armEndpoint"],
            "ARM_AUTHORITY_HOST": self.info["authorityHost"],
            "ARM_CA_CERT_FILE": self.info["caCertFile"],
            "ARM_SUBSCRIPTION_ID": self.info["subscriptionId"],
            "ARM_TENANT_ID": self.info["tenantId"],
            "ARM_CLIENT_ID": self.info["clientId"],
            "ARM_CLIENT_SECRET": self.info["clientSecret"],
            "ARM_USE_CLI": "false",
            "DATASNAP_POLL_INTERVAL_MS": "50",
        }
        e.update(overrides)
        return e

    def call(self, method: str, path: str, body=None, token: bool = False):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.info["armEndpoint"] + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", "Bearer " + self.token())
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=30) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text.strip() else None)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            return e.code, (json.loads(text) if text.strip() else None)

    def token(self) -> str:
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_id": self.info["clientId"],
            "client_secret": self.info["clientSecret"],
            "scope": "https://management.azure.com/.default",
        }).encode()
        req = urllib.request.Request(f"{self.info['authorityHost']}/{self.info['tenantId']}/oauth2/v2.0/token", data=form, method="POST")
        with urllib.request.urlopen(req, context=self.ssl, timeout=30) as r:
            return json.loads(r.read())["access_token"]

    def state(self) -> dict:
        return self.call("GET", "/_emulator/state")[1]

    def all_snapshots(self) -> list:
        """Every snapshot in the emulator, as ARM shows it."""
        return _items(self.state().get("snapshots", []))

    def snapshots(self) -> dict:
        """Snapshots in the emulator by logical name: the lower-cased name without the
        owner suffix of a default name (`data-v1` for `data-v1-3fa9c2`), so tests read
        the same whatever stack made them. Two snapshots of one logical name fail."""
        out = {}
        for s in self.all_snapshots():
            key = logical_name(s["name"])
            assert key not in out, f"two snapshots are {key}: {out[key]['name']} and {s['name']}"
            out[key] = s
        return out

    def name_of(self, logical: str) -> str:
        """The real name of the snapshot whose logical name is `logical` (else `logical`)."""
        s = self.snapshots().get(logical.lower())
        return s["name"] if s else logical

    def faults(self, spec: dict) -> None:
        status, body = self.call("POST", "/_emulator/faults", spec)
        assert status == 200, body

    def clear_faults(self) -> dict:
        return self.call("DELETE", "/_emulator/faults")[1]

    def disk_id(self, group: str = "datasets-rg", disk: str = "dataset-disk") -> str:
        return f"/subscriptions/{self.info['subscriptionId']}/resourceGroups/{group}/providers/Microsoft.Compute/disks/{disk}"

    def create_disk(self, name: str, group: str = "datasets-rg", size_gb: int = 8) -> None:
        path = f"/subscriptions/{self.info['subscriptionId']}/resourceGroups/{group}/providers/Microsoft.Compute/disks/{name}?api-version=2025-01-02"
        body = {"location": "westus", "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": size_gb}}
        status, resp = self.call("PUT", path, body, token=True)
        assert status in (200, 202), resp
        for _ in range(200):
            if self.call("GET", path, token=True)[1]["properties"].get("provisioningState") == "Succeeded":
                return
            time.sleep(0.05)

    def snapshot_id(self, name: str, group: str = "datasets-rg") -> str:
        """The ARM id of a snapshot, by its logical or real name."""
        return f"/subscriptions/{self.info['subscriptionId']}/resourceGroups/{group}/providers/Microsoft.Compute/snapshots/{self.name_of(name)}"


OWNER_SUFFIX = re.compile(r"-[0-9a-f]{6}$")


def logical_name(name: str) -> str:
    """A snapshot name without the owner suffix datasnap gives default names."""
    return OWNER_SUFFIX.sub("", name.lower())


def _items(v):
    if isinstance(v, dict):
        return list(v.values())
    return list(v)


def start_emulator(*args: str) -> Emulator:
    exe = BIN_DIR / "datasnap-emulator"
    proc = subprocess.Popen([str(exe), "serve", "--seed", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(f"{exe} printed no start line")
    return Emulator(proc, json.loads(line))


@pytest.fixture
def emulator():
    """A fresh emulator per test, seeded with datasets-rg and dataset-disk."""
    emu = start_emulator("--op-duration-ms", "200", "--retry-after-secs", "0")
    yield emu
    emu.proc.terminate()
    try:
        emu.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        emu.proc.kill()
