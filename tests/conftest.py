"""End-to-end harness: the real `pulumi` CLI running Python programs against our provider.

Every test gets its own PULUMI_HOME, file backend and stack, so tests never share state.
Programs run in the repository's .venv (which has `pulumi` and our generated SDK), and the
engine finds `pulumi-resource-datasnap` through `plugins.providers` pointing at bin/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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
        home = tmp_path / "pulumi-home"
        state = tmp_path / "state"
        state.mkdir(exist_ok=True)
        proj = tmp_path / f"proj-{len(list(tmp_path.glob('proj-*')))}"
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
