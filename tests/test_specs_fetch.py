"""tools/azure-specs.py: Microsoft's spec files fetched by commit and checked by sha256.

A local http.server stands in for raw.githubusercontent.com: it serves the files of
$AZURE_REST_API_SPECS (set by make) laid out as `<commit>/specification/<path>`. Needs neither
the emulator nor pulumi.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import ROOT

TOOL = ROOT / "tools" / "azure-specs.py"
LOCK = ROOT / "tools" / "azure-specs.lock"


def lock_entries() -> list[tuple[str, str, str]]:
    """(commit, sha256, path relative to specification/) for every file of the lock."""
    out = []
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            commit, sha, path = line.split(maxsplit=2)
            out.append((commit, sha, path))
    return out


def specs_copy() -> Path:
    d = os.environ.get("AZURE_REST_API_SPECS")
    if not d:
        pytest.fail("AZURE_REST_API_SPECS is not set: set AZURE_REST_API_SPECS or run through make, which fetches the specs")
    return Path(d)


class Served:
    """A folder served over HTTP on 127.0.0.1, counting the GETs it answers."""

    def __init__(self, root: Path):
        self.root = root
        self.gets: list[str] = []
        served = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                served.gets.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def server(tmp_path):
    src = specs_copy()
    root = tmp_path / "served"
    for commit, _, path in lock_entries():
        f = src / "specification" / path
        assert f.is_file(), f"{f} is missing from AZURE_REST_API_SPECS={src}"
        dst = root / commit / "specification" / path
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dst)
    s = Served(root)
    yield s
    s.close()


def run_tool(*args: str) -> subprocess.CompletedProcess:
    # No proxy for 127.0.0.1, and no base URL from the environment: the test names its own.
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "azure_specs_base_url")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=120, env=env)


def fetch(server: Served, dest: Path) -> subprocess.CompletedProcess:
    return run_tool("fetch", "--base-url", server.base_url, "--dest", str(dest))


def test_the_lock_lists_every_file_once():
    entries = lock_entries()
    paths = [p for _, _, p in entries]
    assert len(entries) == 24
    assert len(set(paths)) == len(paths)
    assert "compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/DiskRP.json" in paths


def test_fetch_downloads_verifies_and_skips_what_is_there(server, tmp_path):
    entries = lock_entries()
    dest = tmp_path / "dest"
    p = fetch(server, dest)
    assert p.returncode == 0, p.stderr
    for _, _, path in entries:
        assert (dest / "specification" / path).is_file(), path
    assert (dest / ".verified").is_file()
    assert len(server.gets) == len(entries)
    assert not list(dest.rglob("*.tmp"))

    # Again: every file is there with its sha256, so nothing is downloaded.
    p = fetch(server, dest)
    assert p.returncode == 0, p.stderr
    assert len(server.gets) == len(entries)
    assert (dest / ".verified").is_file()

    # verify of the good copy passes.
    p = run_tool("verify", "--dir", str(dest))
    assert p.returncode == 0, p.stderr


def test_a_wrong_checksum_fails_and_leaves_no_file(server, tmp_path):
    commit, sha, path = lock_entries()[3]
    served = server.root / commit / "specification" / path
    served.write_bytes(served.read_bytes() + b" ")
    dest = tmp_path / "dest"
    p = fetch(server, dest)
    assert p.returncode == 1, p.stderr
    assert "checksum" in p.stderr
    assert f"specification/{path}" in p.stderr
    assert sha in p.stderr
    assert f"{server.base_url}/{commit}/specification/" in p.stderr
    assert not (dest / "specification" / path).exists()
    assert not list(dest.rglob("*.tmp"))
    assert not (dest / ".verified").exists()


def test_verify_names_a_tampered_and_a_missing_file(server, tmp_path):
    entries = lock_entries()
    dest = tmp_path / "dest"
    assert fetch(server, dest).returncode == 0

    _, sha, tampered = entries[0]
    f = dest / "specification" / tampered
    f.write_bytes(f.read_bytes().replace(b"2025-01-02", b"2025-01-03", 1))
    p = run_tool("verify", "--dir", str(dest))
    assert p.returncode == 1
    assert "checksum" in p.stderr and f"specification/{tampered}" in p.stderr and sha in p.stderr

    _, _, missing = entries[-1]
    (dest / "specification" / missing).unlink()
    p = run_tool("verify", "--dir", str(dest))
    assert p.returncode == 1
    assert f"missing file specification/{missing}" in p.stderr

    # fetch repairs the copy: only the two bad files are downloaded again.
    before = len(server.gets)
    p = fetch(server, dest)
    assert p.returncode == 0, p.stderr
    assert len(server.gets) == before + 2
    assert run_tool("verify", "--dir", str(dest)).returncode == 0
