"""Installing datasnap the way Pulumi users install providers (issue 9): the release
artifacts of `make dist`, on a clean machine.

Each test runs with a fresh HOME and PULUMI_HOME, the repository's bin/ off PATH, and a
program in a folder outside the repository: only the Pulumi CLI, the Python interpreter,
the wheel and the plugin tarball. The plugin comes from a local HTTP server standing in for
the release host (the schema's pluginDownloadURL, redirected with Pulumi's
PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES), or from `pulumi plugin install --file`.
"""

import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from conftest import BIN_DIR, ROOT, pulumi_bin

DIST = Path(os.environ.get("DATASNAP_DIST_DIR", ROOT / "dist"))


def _cargo_version() -> str:
    m = re.search(r'^\[workspace\.package\]\s*\nversion = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    assert m, "no [workspace.package] version in Cargo.toml"
    return m.group(1)


VERSION = _cargo_version()
TARBALL = f"pulumi-resource-datasnap-v{VERSION}-linux-amd64.tar.gz"
WHEEL = f"pulumi_datasnap-{VERSION}-py3-none-any.whl"
SDIST = f"pulumi_datasnap-{VERSION}.tar.gz"
PULUMI_PY = "pulumi==3.272.0"


def _dist(name: str) -> Path:
    p = DIST / name
    if not p.is_file():
        pytest.fail(f"{p} is missing: run the tests through `make test`, which runs `make dist` first")
    return p


# --- one version everywhere ------------------------------------------------------------


def test_one_version_flows_into_binary_schema_sdk_and_artifacts():
    schema = json.loads((ROOT / "schema.json").read_text())
    assert schema["version"] == VERSION, "schema.json's version is not Cargo.toml's: run `make sdk`"
    plugin_json = json.loads((ROOT / "sdk/python/pulumi_datasnap/pulumi-plugin.json").read_text())
    assert plugin_json["version"] == VERSION
    assert plugin_json["server"] == schema["pluginDownloadURL"], "the SDK's plugin server is not the schema's pluginDownloadURL"
    pyproject = (ROOT / "sdk/python/pyproject.toml").read_text()
    assert f'version = "{VERSION}"' in pyproject
    # The binary says the same, and answers and exits (no port, no hang).
    exe = str(BIN_DIR / "pulumi-resource-datasnap")
    v = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
    assert v.returncode == 0 and v.stdout.strip() == VERSION, v
    h = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    assert h.returncode == 0 and "pulumi plugin install resource datasnap" in h.stdout and VERSION in h.stdout, h
    # The artifacts carry it in their names, and the plugin inside is the same binary.
    with tarfile.open(_dist(TARBALL)) as t:
        assert sorted(t.getnames()) == ["LICENSE", "README.md", "pulumi-resource-datasnap"]
        member = t.getmember("pulumi-resource-datasnap")
        assert member.mode & 0o111, "the plugin in the tarball is not executable"
        assert t.extractfile(member).read() == Path(exe).read_bytes(), "the tarball's plugin is not bin/'s"
    digest = hashlib.sha256(_dist(TARBALL).read_bytes()).hexdigest()
    assert _dist(TARBALL + ".sha256").read_text().split() == [digest, TARBALL]
    with zipfile.ZipFile(_dist(WHEEL)) as w:
        names = w.namelist()
        assert "pulumi_datasnap/pulumi-plugin.json" in names and "pulumi_datasnap/py.typed" in names
        assert json.loads(w.read("pulumi_datasnap/pulumi-plugin.json")) == plugin_json
    with tarfile.open(_dist(SDIST)) as t:
        assert f"pulumi_datasnap-{VERSION}/pulumi_datasnap/pulumi-plugin.json" in t.getnames()


# --- a clean machine -------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def download_server():
    """dist/ over HTTP on 127.0.0.1, recording what is fetched."""
    fetched = []

    class Handler(_Quiet):
        def do_GET(self):
            fetched.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(DIST)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", fetched
    server.shutdown()


PROGRAM = '''\
import pulumi
import pulumi_datasnap as datasnap

# Configuration from the environment only (ARM_*), as azure-native users have it.
me = datasnap.get_client_config()
disk = (f"/subscriptions/{datasnap.config.subscription_id}/resourceGroups/datasets-rg"
        "/providers/Microsoft.Compute/disks/dataset-disk")
snap = datasnap.VersionedSnapshot("training",
    resource_group_name="datasets-rg", dataset="training-data", version="1",
    source_disk_id=disk, sku="Standard_LRS")
pulumi.export("subscriptionFromConfig", datasnap.config.subscription_id)
pulumi.export("client", {"subscriptionId": me.subscription_id, "tenantId": me.tenant_id,
                         "clientId": me.client_id, "objectId": me.object_id})
pulumi.export("snapshotId", snap.id)
'''


def _clean_machine(tmp_path: Path, emulator, requirements: list[str]) -> tuple[Path, dict]:
    """A user's project outside the repository, and an environment with nothing of ours."""
    home = tmp_path / "home"
    home.mkdir()
    proj = tmp_path / "project"
    proj.mkdir()
    (proj / "__main__.py").write_text(PROGRAM)
    (proj / "requirements.txt").write_text("\n".join(requirements) + "\n")
    (proj / "Pulumi.yaml").write_text(
        "name: datasets\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n"
    )
    pulumi_dir = str(Path(pulumi_bin()).parent)
    python_dir = str(Path(sys.base_prefix) / "bin")
    path = os.pathsep.join([pulumi_dir, python_dir, "/usr/local/bin", "/usr/bin", "/bin"])
    assert str(BIN_DIR) not in path
    env = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")}
    env.update(emulator.env())
    env.update(
        HOME=str(home),
        PATH=path,
        PULUMI_HOME=str(home / ".pulumi"),
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
        PULUMI_CONFIG_PASSPHRASE="",
        PULUMI_SKIP_UPDATE_CHECK="true",
        # pip's download cache only (a cache, not an install): keeps the test off the network
        # when the machine has fetched these wheels before.
        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    (tmp_path / "state").mkdir()
    return proj, env


def _pulumi(proj: Path, env: dict, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    p = subprocess.run([str(Path(env["PATH"].split(os.pathsep)[0]) / "pulumi"), "--non-interactive", *args],
                       cwd=proj, env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"`pulumi {' '.join(args)}` exited {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}")
    return p


def _assert_up_worked(proj: Path, env: dict, emulator) -> None:
    out = json.loads(_pulumi(proj, env, "stack", "output", "--json", "--stack", "dev").stdout)
    info = emulator.info
    assert out["subscriptionFromConfig"] == info["subscriptionId"]
    assert out["client"] == {
        "subscriptionId": info["subscriptionId"],
        "tenantId": info["tenantId"],
        "clientId": info["clientId"],
        "objectId": "22222222-2222-4222-8222-222222222222",
    }
    assert out["snapshotId"].startswith(f"/subscriptions/{info['subscriptionId']}/resourceGroups/datasets-rg/")
    assert [s["id"] for s in emulator.all_snapshots()] == [out["snapshotId"]]


def test_pulumi_install_fetches_the_plugin_from_the_download_server(tmp_path, emulator, download_server):
    url, fetched = download_server
    schema_url = json.loads((ROOT / "schema.json").read_text())["pluginDownloadURL"]
    proj, env = _clean_machine(tmp_path, emulator, [PULUMI_PY, str(_dist(WHEEL))])
    # The release host, redirected to the local server the way a mirror would be.
    prefix = schema_url.split("${")[0].rstrip("/")
    env["PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES"] = f"^{re.escape(prefix)}={url}"
    started = time.monotonic()
    _pulumi(proj, env, "install")
    installed = time.monotonic()
    assert f"/{TARBALL}" in fetched, fetched
    plugin = Path(env["PULUMI_HOME"]) / "plugins" / f"resource-datasnap-v{VERSION}" / "pulumi-resource-datasnap"
    assert plugin.is_file(), list((Path(env["PULUMI_HOME"]) / "plugins").glob("*"))
    _pulumi(proj, env, "stack", "init", "dev")
    _pulumi(proj, env, "up", "--yes", "--stack", "dev")
    done = time.monotonic()
    _assert_up_worked(proj, env, emulator)
    print(f"\n[install] pulumi install {installed - started:.1f} s, first up {done - installed:.1f} s")


def test_plugin_install_with_a_pinned_checksum(tmp_path, emulator, download_server):
    url, fetched = download_server
    proj, env = _clean_machine(tmp_path, emulator, [PULUMI_PY, str(_dist(WHEEL))])
    digest = _dist(TARBALL + ".sha256").read_text().split()[0]
    bad = _pulumi(proj, env, "plugin", "install", "resource", "datasnap", VERSION, "--server", url, "--checksum", "0" * 64, check=False)
    assert bad.returncode != 0 and "checksum" in (bad.stdout + bad.stderr).lower(), bad
    _pulumi(proj, env, "plugin", "install", "resource", "datasnap", VERSION, "--server", url, "--checksum", digest)
    assert (Path(env["PULUMI_HOME"]) / "plugins" / f"resource-datasnap-v{VERSION}" / "pulumi-resource-datasnap").is_file()


def test_plugin_install_from_the_tarball_file(tmp_path, emulator):
    proj, env = _clean_machine(tmp_path, emulator, [PULUMI_PY, str(_dist(WHEEL))])
    # No download at all: the plugin comes from the file, and acquisition is off.
    env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
    _pulumi(proj, env, "plugin", "install", "resource", "datasnap", VERSION, "--file", str(_dist(TARBALL)))
    listed = _pulumi(proj, env, "plugin", "ls", "--json").stdout
    assert any(p["name"] == "datasnap" and p["version"] == VERSION for p in json.loads(listed)), listed
    _pulumi(proj, env, "install")
    _pulumi(proj, env, "stack", "init", "dev")
    _pulumi(proj, env, "up", "--yes", "--stack", "dev")
    _assert_up_worked(proj, env, emulator)


def test_pip_install_of_the_source_folder_leaves_the_tree_clean(tmp_path):
    """README's `pip install ./sdk/python`: setuptools writes build/ and *.egg-info/ into the
    folder. They are ignored by git and by the committed-SDK test, which compares tracked files."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    before = subprocess.run(["git", "status", "--porcelain", "--", "sdk"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    p = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(ROOT / "sdk" / "python")],
                       capture_output=True, text=True, env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"))
    assert p.returncode == 0, p.stdout + p.stderr
    after = subprocess.run(["git", "status", "--porcelain", "--", "sdk"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert after == before, f"pip install ./sdk/python left files git sees:\n{after}"
    shutil.rmtree(ROOT / "sdk" / "python" / "build", ignore_errors=True)
    for p in (ROOT / "sdk" / "python").glob("*.egg-info"):
        shutil.rmtree(p, ignore_errors=True)
