"""The CI recipe users copy (issue 10): examples/ci and its GitHub Actions workflow.

- actionlint passes on the workflow, and fails on broken copies of it (so the check can fail);
- a rehearsal runs the workflow's own `run:` steps with bash, the real Pulumi CLI, the release
  artifacts of dist/, the local Azure emulator and Azurite (Microsoft's Storage emulator) as
  the state backend. Each job runs on its own "runner": a fresh copy of examples/ci outside the
  repository and a fresh HOME. The `uses:` steps cannot run here; the rehearsal stands in for
  them: actions/checkout is the copy, actions/setup-python and pulumi/actions are the Python
  and Pulumi CLI on PATH, azure/login is Azurite's account key. The provider signs in through
  OIDC as in GitHub: ARM_USE_OIDC and no client secret, with GitHub's id-token endpoint served
  by the emulator (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN, what `id-token: write` gives a job).

Sequence: the pull request job (preview, into the job summary), the default branch job (up),
a no-change preview; then two `up`s of a bumped version at once: the stack lock in the bucket
refuses one, nothing is lost, and the stack converges.

actionlint and Azurite come from `make actionlint` and `make azurite` (DATASNAP_ACTIONLINT,
DATASNAP_AZURITE): a missing one fails, never skips.
"""

from __future__ import annotations

import base64
import concurrent.futures
import gzip
import hashlib
import hmac
import http.client
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import pytest
import yaml

from conftest import BIN_DIR, ROOT, pulumi_bin
from test_install import PULUMI_PY, TARBALL, WHEEL, _dist, download_server  # noqa: F401 (a fixture)

EXAMPLE = ROOT / "examples" / "ci"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "datasnap.yml"
STACK = "prod"  # the workflow's default (vars.PULUMI_STACK unset)
PROJECT = "datasnap-ci"
CONTAINER = "pulumi-state"
# Azurite's well-known development account (documented by Microsoft, not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
ACTIONS_TOKEN = "datasnap-emulator-actions-token"
# The `uses:` steps the rehearsal stands in for (see the module docstring).
REPLACED_ACTIONS = {"actions/checkout", "actions/setup-python", "pulumi/actions", "azure/login"}
LOCKED = "the stack is currently locked"


def _tool(var: str, make_target: str) -> Path:
    v = os.environ.get(var)
    if not v:
        pytest.fail(f"{var} is not set: run the tests through `make test` (it runs `make {make_target}` and sets {var})")
    p = Path(v)
    if not p.exists():
        pytest.fail(f"{var}={v} does not exist: run `make {make_target}` (or the tests through `make test`)")
    return p


def _actionlint() -> Path:
    return _tool("DATASNAP_ACTIONLINT", "actionlint")


def _azurite_blob() -> Path:
    p = _tool("DATASNAP_AZURITE", "azurite") / "azurite-blob"
    if not p.exists():
        pytest.fail(f"{p} is missing: run `make azurite` (or the tests through `make test`)")
    return p


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


# --- the workflow's shape and actionlint -----------------------------------------------


def test_workflow_previews_pull_requests_and_deploys_the_default_branch_with_oidc():
    wf = _workflow()
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(on) == {"pull_request", "push"}, on
    assert wf["permissions"] == {"id-token": "write", "contents": "read"}
    env = wf["env"]
    assert env["ARM_USE_OIDC"] == "true", "the provider uses GitHub's token only with ARM_USE_OIDC=true"
    for k in ("ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"):
        assert env[k] == f"${{{{ vars.{k} }}}}", (k, env[k])
    text = WORKFLOW.read_text()
    assert "CLIENT_SECRET" not in text and "AZURE_STORAGE_KEY:" not in text, "OIDC only: no stored credential"
    assert env["PULUMI_BACKEND_URL"].startswith("azblob://")
    assert env["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    jobs = wf["jobs"]
    assert set(jobs) == {"preview", "up"}
    assert "github.event_name == 'pull_request'" in jobs["preview"]["if"]
    assert "github.event_name == 'push'" in jobs["up"]["if"] and "default_branch" in jobs["up"]["if"]
    # One deployment per stack at a time, never cancelled half-way; previews in their own
    # group, so a waiting preview never replaces a waiting deployment.
    up_c, pr_c = jobs["up"]["concurrency"], jobs["preview"]["concurrency"]
    assert up_c["cancel-in-progress"] is False and "PULUMI_STACK" in up_c["group"]
    assert "PULUMI_STACK" in pr_c["group"] and pr_c["group"] != up_c["group"]
    for job in jobs.values():
        uses = [s["uses"].split("@")[0] for s in job["steps"] if "uses" in s]
        assert uses == ["actions/checkout", "actions/setup-python", "pulumi/actions", "azure/login"], uses
        login = next(s for s in job["steps"] if s.get("uses", "").startswith("azure/login@"))
        assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}, "azure/login through OIDC"
        runs = [s["run"] for s in job["steps"] if "run" in s]
        assert runs[0].startswith('pulumi login "$PULUMI_BACKEND_URL"'), runs[0]
        assert "pulumi install" in runs[1]
    assert "$GITHUB_STEP_SUMMARY" in _step(wf, "preview", "preview")["run"]
    assert "pulumi up --yes" in _step(wf, "up", "up")["run"]


def _lint(workflow: Path) -> subprocess.CompletedProcess:
    # shellcheck and pyflakes integrations off: the result must not depend on the machine.
    return subprocess.run([str(_actionlint()), "-no-color", "-oneline", "-shellcheck=", "-pyflakes=", str(workflow)],
                          capture_output=True, text=True, timeout=60)


# A few ways to break the workflow, and what actionlint says about each.
BREAKAGES = [
    ("client-id: ${{ vars.ARM_CLIENT_ID }}", "client_id: ${{ vars.ARM_CLIENT_ID }}", 'input "client_id" is not defined'),
    ("ARM_CLIENT_ID: ${{ vars.ARM_CLIENT_ID }}", "ARM_CLIENT_ID: ${{ var.ARM_CLIENT_ID }}", 'undefined variable "var"'),
    ("  preview:\n    if: github.event_name == 'pull_request'\n    runs-on: ubuntu-latest\n",
     "  preview:\n    if: github.event_name == 'pull_request'\n", '"runs-on" section is missing in job "preview"'),
    ("id-token: write", "id-token: wrte", '"wrte" is invalid as permission of scope "id-token"'),
]


def test_actionlint_passes_on_the_workflow_and_fails_on_broken_copies(tmp_path):
    ok = _lint(WORKFLOW)
    assert ok.returncode == 0 and not ok.stdout.strip(), f"actionlint on {WORKFLOW}:\n{ok.stdout}{ok.stderr}"
    text = WORKFLOW.read_text()
    wf_dir = tmp_path / ".github" / "workflows"
    wf_dir.mkdir(parents=True)
    for i, (old, new, message) in enumerate(BREAKAGES):
        assert old in text, f"breakage {i}: {old!r} is no longer in the workflow; update BREAKAGES"
        broken = wf_dir / f"broken-{i}.yml"
        broken.write_text(text.replace(old, new, 1))
        p = _lint(broken)
        assert p.returncode == 1, f"actionlint passed a broken workflow ({new!r}):\n{p.stdout}{p.stderr}"
        assert message in p.stdout, f"breakage {i}: expected {message!r}, actionlint said:\n{p.stdout}{p.stderr}"


# --- Azurite ---------------------------------------------------------------------------


class Azurite:
    """A running azurite-blob, and a small client for its REST API (shared key)."""

    def __init__(self, proc: subprocess.Popen, port: int):
        self.proc = proc
        self.port = port

    def request(self, method: str, path: str, query: dict | None = None, body: bytes = b"") -> tuple[int, bytes]:
        query = query or {}
        headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
        if method == "PUT":
            headers["Content-Length"] = str(len(body))
        canon_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()) if k.startswith("x-ms-"))
        # Path-style (emulator) URLs: the account is both the resource's owner and the
        # path's first segment.
        resource = f"/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{path}" + "".join(
            f"\n{k.lower()}:{v}" for k, v in sorted(query.items()))
        to_sign = "\n".join([method, "", "", str(len(body)) if body else "", "", "", "", "", "", "", "", ""]) + "\n"
        to_sign += canon_headers + resource
        sig = base64.b64encode(hmac.new(base64.b64decode(AZURITE_KEY), to_sign.encode(), hashlib.sha256).digest()).decode()
        headers["Authorization"] = f"SharedKey {AZURITE_ACCOUNT}:{sig}"
        url = f"/{AZURITE_ACCOUNT}/{urllib.parse.quote(path)}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, url, body=body if method == "PUT" else None, headers=headers)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def create_container(self, name: str) -> None:
        status, body = self.request("PUT", name, {"restype": "container"})
        assert status == 201, (status, body)

    def blobs(self, container: str, prefix: str = "") -> list[str]:
        q = {"restype": "container", "comp": "list"}
        if prefix:
            q["prefix"] = prefix
        status, body = self.request("GET", container, q)
        assert status == 200, (status, body)
        return [e.text for e in ET.fromstring(body).iter("Name")]

    def read(self, container: str, blob: str) -> bytes:
        status, body = self.request("GET", f"{container}/{blob}")
        assert status == 200, (status, body)
        return body

    def backend_url(self, container: str) -> str:
        """Pulumi's blob backend URL for a container of this Azurite: gocloud.dev's azureblob
        opener takes the service endpoint from `domain` and `protocol` (`localemu` puts the
        account in the path, as Azurite wants)."""
        return f"azblob://{container}?domain=127.0.0.1:{self.port}&protocol=http&localemu=true"


@pytest.fixture
def azurite(tmp_path):
    exe = _azurite_blob()
    data = tmp_path / "azurite"
    data.mkdir()
    proc = subprocess.Popen(
        [str(exe), "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", str(data), "--silent",
         "--skipApiVersionCheck", "--loose"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    # One reader thread: it finds the start line with the port, then keeps the pipe drained.
    lines: queue.Queue = queue.Queue()

    def read():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    port, seen, deadline = None, [], time.monotonic() + 60
    while port is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        m = re.search(r"listens on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
    if port is None:
        proc.kill()
        pytest.fail(f"azurite-blob did not start:\n{''.join(seen)}")
    try:
        yield Azurite(proc, port)
    finally:
        # Its data is throwaway; azurite-blob sometimes lingers after SIGTERM.
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- the runner ------------------------------------------------------------------------


def _step(wf: dict, job: str, step_id: str) -> dict:
    return next(s for s in wf["jobs"][job]["steps"] if s.get("id") == step_id)


EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _evaluate(value, ctx: dict) -> str:
    """The expressions the workflow's env uses: `vars.X`, `secrets.X`, `a || 'default'`.
    Anything else fails, so the workflow stays within what the rehearsal understands."""

    def one(m):
        out = ""
        for alt in m.group(1).split("||"):
            alt = alt.strip()
            if re.fullmatch(r"'[^']*'", alt):
                v = alt[1:-1]
            elif re.fullmatch(r"(vars|secrets)\.[A-Za-z_][A-Za-z0-9_]*", alt):
                kind, name = alt.split(".")
                v = ctx[kind].get(name, "")
            else:
                pytest.fail(f"the rehearsal does not understand the expression `{m.group(0)}` in the workflow's env")
            if v:
                return v
            out = v
        return out

    return EXPR.sub(one, str(value))


@dataclass
class StepResult:
    name: str
    returncode: int
    output: str
    seconds: float
    summary: str


@dataclass
class Runner:
    """One job's runner: a fresh checkout of examples/ci and a fresh HOME, outside the repo."""

    root: Path
    env: dict
    results: dict = field(default_factory=dict)

    @property
    def workspace(self) -> Path:
        return self.root / "work"

    def config_set(self, key: str, value: str) -> None:
        """Edits the committed stack settings, as a commit would."""
        f = self.workspace / f"Pulumi.{STACK}.yaml"
        doc = yaml.safe_load(f.read_text())
        doc["config"][f"{PROJECT}:{key}"] = value
        f.write_text(yaml.safe_dump(doc))


class Rehearsal:
    def __init__(self, tmp_path: Path, emulator, azurite: Azurite, plugin_server: str):
        self.tmp = tmp_path
        self.wf = _workflow()
        self.n = 0
        info = emulator.info
        # What a repository's Actions variables and secrets would hold.
        self.ctx = {
            "vars": {
                "ARM_CLIENT_ID": info["clientId"],
                "ARM_TENANT_ID": info["tenantId"],
                "ARM_SUBSCRIPTION_ID": info["subscriptionId"],
                "PULUMI_STATE_STORAGE_ACCOUNT": AZURITE_ACCOUNT,
                "PULUMI_STATE_CONTAINER": CONTAINER,
            },
            "secrets": {"PULUMI_CONFIG_PASSPHRASE": "rehearsal passphrase"},
        }
        wf_env = {k: _evaluate(v, self.ctx) for k, v in self.wf.get("env", {}).items()}
        assert wf_env["PULUMI_BACKEND_URL"] == f"azblob://{CONTAINER}", wf_env["PULUMI_BACKEND_URL"]
        assert wf_env["PULUMI_STACK"] == STACK and wf_env["AZURE_STORAGE_ACCOUNT"] == AZURITE_ACCOUNT
        schema_url = json.loads((ROOT / "schema.json").read_text())["pluginDownloadURL"]
        pulumi_dir = str(Path(pulumi_bin()).parent)
        python_dir = str(Path(sys.base_prefix) / "bin")
        path = os.pathsep.join([pulumi_dir, python_dir, "/usr/local/bin", "/usr/bin", "/bin"])
        assert str(BIN_DIR) not in path
        base = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")}
        base.update(
            PATH=path,
            GITHUB_ACTIONS="true",
            CI="true",
            PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            # The release host of the SDK's pluginDownloadURL, redirected to dist/ on 127.0.0.1.
            PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES=f"^{re.escape(schema_url.split('${')[0].rstrip('/'))}={plugin_server}",
        )
        base.update(wf_env)
        base.update(
            # The workflow's container, on Azurite instead of <account>.blob.core.windows.net.
            PULUMI_BACKEND_URL=azurite.backend_url(CONTAINER),
            # azure/login (the az CLI login the blob backend's default credential finds):
            # Azurite takes its account key instead.
            AZURE_STORAGE_KEY=AZURITE_KEY,
            # `permissions: id-token: write`: GitHub's id-token endpoint, served by the emulator.
            ACTIONS_ID_TOKEN_REQUEST_URL=f"{info['armEndpoint']}/_github/idtoken?api-version=2.0",
            ACTIONS_ID_TOKEN_REQUEST_TOKEN=ACTIONS_TOKEN,
            # The emulator is a private cloud; in GitHub these stay unset (public Azure).
            ARM_ENDPOINT=info["armEndpoint"],
            ARM_AUTHORITY_HOST=info["authorityHost"],
            ARM_CA_CERT_FILE=info["caCertFile"],
            DATASNAP_POLL_INTERVAL_MS="50",
        )
        assert "ARM_CLIENT_SECRET" not in base and base["ARM_USE_OIDC"] == "true"
        self.base = base

    def runner(self, name: str, event: str) -> Runner:
        self.n += 1
        root = self.tmp / f"runner-{self.n}-{name}"
        work = root / "work"
        shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("venv", "__pycache__"))
        # The published packages: the Pulumi SDK the repository's tests use and our wheel.
        (work / "requirements.txt").write_text(f"{PULUMI_PY}\n{_dist(WHEEL)}\n")
        for d in ("home", "temp"):
            (root / d).mkdir()
        env = dict(self.base)
        env.update(
            HOME=str(root / "home"),
            PULUMI_HOME=str(root / "home" / ".pulumi"),
            RUNNER_TEMP=str(root / "temp"),
            GITHUB_WORKSPACE=str(work),
            GITHUB_EVENT_NAME=event,
            GITHUB_REF="refs/pull/1/merge" if event == "pull_request" else "refs/heads/main",
        )
        return Runner(root=root, env=env)

    def job_steps(self, job: str) -> list[dict]:
        return self.wf["jobs"][job]["steps"]

    def start_step(self, r: Runner, job: str, step: dict, i: int, overrides: dict | None = None) -> tuple[subprocess.Popen, Path, float]:
        """Starts a `run:` step the way GitHub runs `shell: bash`."""
        shell = step.get("shell", self.wf.get("defaults", {}).get("run", {}).get("shell"))
        assert shell == "bash", f"step {step.get('name')}: the rehearsal runs bash steps only, not {shell!r}"
        assert "${{" not in step["run"], f"step {step.get('name')}: keep expressions in env, not in `run:`"
        script = r.root / "temp" / f"step-{i}.sh"
        script.write_text(step["run"])
        summary = r.root / "temp" / f"summary-{i}.md"
        summary.touch()
        env = dict(r.env)
        for scope in (self.wf["jobs"][job].get("env", {}), step.get("env", {})):
            env.update({k: _evaluate(v, self.ctx) for k, v in scope.items()})
        env["GITHUB_STEP_SUMMARY"] = str(summary)
        for k, v in (overrides or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        cwd = r.workspace / step.get("working-directory", ".")
        proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return proc, summary, time.monotonic()

    def finish_step(self, r: Runner, step: dict, started: tuple, check: bool = True) -> StepResult:
        proc, summary, t0 = started
        out = proc.communicate(timeout=600)[0]
        res = StepResult(step.get("name", step.get("id", "")), proc.returncode, out, time.monotonic() - t0, summary.read_text())
        r.results[step.get("id") or res.name] = res
        if check and res.returncode != 0:
            raise AssertionError(f"step `{res.name}` exited {res.returncode}\n--- output\n{out}")
        return res

    def run_job(self, r: Runner, job: str, *, stop_before: str | None = None) -> Runner:
        """Runs the job's steps in order (or those before the step whose id is `stop_before`)."""
        for i, step in enumerate(self.job_steps(job)):
            if stop_before and step.get("id") == stop_before:
                break
            if "uses" in step:
                action = step["uses"].split("@")[0]
                assert action in REPLACED_ACTIONS, f"the rehearsal cannot stand in for `uses: {step['uses']}`"
                continue
            self.finish_step(r, step, self.start_step(r, job, step, i))
        return r

    def shell(self, r: Runner, command: str, check: bool = True, env: dict | None = None) -> StepResult:
        """An extra command on a runner, like a `run:` step (`env`: changes, None unsets)."""
        step = {"name": command, "run": command}
        return self.finish_step(r, step, self.start_step(r, "up", step, 100 + len(r.results), env), check=check)


def _stack_blob(azurite: Azurite) -> str:
    names = azurite.blobs(CONTAINER, ".pulumi/stacks/")
    want = [n for n in names if re.fullmatch(rf"\.pulumi/stacks/{PROJECT}/{STACK}\.json(\.gz)?", n)]
    assert want, f"no state blob of stack {STACK} in the container: {names}"
    return want[0]


def _state(azurite: Azurite) -> dict:
    blob = _stack_blob(azurite)
    raw = azurite.read(CONTAINER, blob)
    return json.loads(gzip.decompress(raw) if blob.endswith(".gz") else raw)


def _state_snapshots(azurite: Azurite) -> dict:
    """The VersionedSnapshots in the state blob: version -> snapshot ARM id."""
    res = _state(azurite)["checkpoint"]["latest"].get("resources", [])
    return {r["outputs"]["version"]: r["outputs"]["snapshotId"] for r in res if r["type"] == "datasnap:index:VersionedSnapshot"}


def _dataset(emulator) -> dict:
    """The dataset's snapshots in Azure: version -> snapshot."""
    out = {}
    for s in emulator.all_snapshots():
        tags = s.get("tags") or {}
        if tags.get("datasnap.dataset") == "training-data":
            assert tags["datasnap.version"] not in out, f"two snapshots of version {tags['datasnap.version']}"
            out[tags["datasnap.version"]] = s
    return out


def _nothing_lost(emulator, azurite: Azurite, versions: set) -> dict:
    """Every version taken is either the one the state holds or retained in Azure, and no
    snapshot is outside both. Returns the state's versions."""
    held = _state_snapshots(azurite)
    assert len(held) == 1, held
    azure = _dataset(emulator)
    assert set(azure) == versions, f"Azure holds versions {sorted(azure)}, expected {sorted(versions)}"
    for ver, snap in azure.items():
        retained = (snap.get("tags") or {}).get("datasnap.retained") == "true"
        if ver in held:
            assert snap["id"] == held[ver] and not retained, (ver, snap)
        else:
            assert retained, f"version {ver} is neither in the state nor retained: {snap}"
    return held


def test_rehearsal_of_the_workflow_against_the_emulator_and_azurite(tmp_path, emulator, azurite, download_server):
    plugin_server, fetched = download_server
    azurite.create_container(CONTAINER)
    rh = Rehearsal(tmp_path, emulator, azurite, plugin_server)
    timings = {}

    # 1. A pull request: preview, written to the job summary. Nothing is taken.
    pr = rh.run_job(rh.runner("pr", "pull_request"), "preview")
    preview = pr.results["preview"]
    timings["preview"] = preview.seconds
    timings["install"] = pr.results["Install the program's packages and plugins"].seconds
    summary = preview.summary
    assert f"### `pulumi preview` of stack `{STACK}`" in summary and "```diff" in summary, summary
    assert re.search(r"^\+\s+datasnap:index:VersionedSnapshot: \(create\)", summary, re.M), summary
    assert "training-data" in summary and "2 to create" in summary, summary
    assert _dataset(emulator) == {}, "a preview took a snapshot"
    assert f"/{TARBALL}" in fetched, "`pulumi install` fetched the plugin from the (redirected) release host"

    # 2. The merge: the default branch job's `up`.
    main = rh.run_job(rh.runner("main", "push"), "up")
    timings["up"] = main.results["up"].seconds
    assert "```diff" in main.results["up"].summary
    azure = _dataset(emulator)
    assert set(azure) == {"1"}, azure
    assert len(emulator.all_snapshots()) == 1
    blob = _stack_blob(azurite)
    assert _state_snapshots(azurite) == {"1": azure["1"]["id"]}, "the state blob in Azurite holds the snapshot"

    # 3. Another pull request with no change: its summary says so, and
    #    `preview --expect-no-changes` passes on a fresh runner (the state is all in the bucket).
    pr2 = rh.run_job(rh.runner("pr-no-change", "pull_request"), "preview")
    assert re.search(r"\d+ unchanged", pr2.results["preview"].summary), pr2.results["preview"].summary
    nc = rh.shell(pr2, 'pulumi preview --expect-no-changes --diff --stack "$PULUMI_STACK" --non-interactive')
    timings["no-change preview"] = nc.seconds
    # The provider signed in with the job's GitHub token: another bearer token is refused,
    # and without ARM_USE_OIDC it does not use the token at all and says to set it.
    preview_cmd = 'pulumi preview --stack "$PULUMI_STACK" --non-interactive'
    bad = rh.shell(pr2, preview_cmd, check=False, env={"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "not-this-jobs-token"})
    assert bad.returncode != 0 and "401" in bad.output and "ACTIONS_ID_TOKEN_REQUEST_TOKEN" in bad.output, bad.output
    no_oidc = rh.shell(pr2, preview_cmd, check=False, env={"ARM_USE_OIDC": None})
    assert no_oidc.returncode != 0 and "ARM_USE_OIDC" in no_oidc.output, no_oidc.output
    said = next(l for l in no_oidc.output.splitlines() if "ARM_USE_OIDC" in l).strip()
    print("\n[ci] without ARM_USE_OIDC: ..." + said[max(0, said.find("ARM_USE_OIDC") - 120):][:240] + "...")

    # 4. datasetVersion bumped to 2, and two `up`s of the stack at once (the concurrency
    #    group bypassed, e.g. a second workflow copy): while the first holds the stack lock in
    #    the bucket, the second is refused; it never reaches Azure.
    runners = [rh.runner(f"main-bump-{c}", "push") for c in "ab"]
    for r in runners:
        r.config_set("datasetVersion", "2")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda r: rh.run_job(r, "up", stop_before="up"), runners))
    up_step = _step(rh.wf, "up", "up")
    up_index = rh.job_steps("up").index(up_step)
    t0 = time.monotonic()
    first = rh.start_step(runners[0], "up", up_step, up_index)
    locks = []
    while not locks:
        assert first[0].poll() is None, "the first up ended before taking the stack lock:\n" + first[0].communicate()[0]
        assert time.monotonic() - t0 < 120, "the first up took no stack lock in 120 s"
        locks = azurite.blobs(CONTAINER, ".pulumi/locks/")
        time.sleep(0.05)
    second = rh.start_step(runners[1], "up", up_step, up_index)
    b = rh.finish_step(runners[1], up_step, second, check=False)
    a = rh.finish_step(runners[0], up_step, first, check=False)
    timings["two ups at once"] = time.monotonic() - t0
    assert a.returncode == 0, f"the up holding the lock failed:\n{a.output}"
    assert b.returncode != 0 and LOCKED in b.output, f"the second up was not refused by the lock:\n{b.output}"
    assert LOCKED in b.summary, "the refusal is in the job summary"
    print(f"[ci] lock: {locks[0]}\n[ci] refused: " + next(l for l in b.output.splitlines() if LOCKED in l).strip())
    assert azurite.blobs(CONTAINER, ".pulumi/locks/") == [], "a stack lock was left behind"
    assert _nothing_lost(emulator, azurite, {"1", "2"}) == {"2": _dataset(emulator)["2"]["id"]}

    # 5. The refused job, re-run: a plain `up` converges (nothing left to do), and a
    #    preview expects no changes.
    rerun = rh.runner("main-rerun", "push")
    rerun.config_set("datasetVersion", "2")  # the same commit
    rh.run_job(rerun, "up")
    assert re.search(r"Resources:\s+2 unchanged", rerun.results["up"].output), rerun.results["up"].output
    rh.shell(rerun, 'pulumi preview --expect-no-changes --diff --stack "$PULUMI_STACK" --non-interactive')
    _nothing_lost(emulator, azurite, {"1", "2"})
    assert blob == _stack_blob(azurite)

    print("[ci] " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
