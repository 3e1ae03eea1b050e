"""The SDK's configuration and credentials, as azure-native users expect them (issue 9):
config read from the environment, stubs that type-check with the names that work, enum
inputs as plain strings, getClientConfig, client certificates, a clear error for a service
principal without a credential, an unreachable ARM endpoint that fails fast and says what it
retries, and the emulator's start line as shell exports."""

import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BIN_DIR, start_emulator

# --- typing ----------------------------------------------------------------------------

TYPED_OK = '''\
import pulumi_datasnap as datasnap

sub: str | None = datasnap.config.subscription_id
endpoint: str | None = datasnap.config.arm_endpoint
use_msi: bool | None = datasnap.config.use_msi
snap = datasnap.VersionedSnapshot("s", resource_group_name="rg", dataset="d", version="1",
    source_disk_id="/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
    sku="Premium_LRS", deletion_policy="Delete")
typed = datasnap.VersionedSnapshot("t", resource_group_name="rg", dataset="d", version="2",
    source_disk_id="/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
    sku=datasnap.SnapshotSku.PREMIUM_LRS)
disk = datasnap.RestoredDisk("r", resource_group_name="rg", dataset="d", version="1", sku="StandardSSD_LRS")
me = datasnap.get_client_config()
tenant: str | None = me.tenant_id
'''

TYPED_BAD = '''\
import pulumi_datasnap as datasnap

camel = datasnap.config.subscriptionId
'''


def _mypy(tmp_path: Path, name: str, text: str) -> subprocess.CompletedProcess:
    f = tmp_path / name
    f.write_text(text)
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), str(f)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)


def _pyright(tmp_path: Path, name: str) -> subprocess.CompletedProcess:
    exe = os.environ.get("DATASNAP_PYRIGHT")
    if not exe or not Path(exe).exists():
        pytest.fail("pyright is missing (DATASNAP_PYRIGHT): run the tests through `make test`, which installs it")
    # The venv whose site-packages hold pulumi and pulumi_datasnap.
    (tmp_path / "pyrightconfig.json").write_text(json.dumps({"venvPath": str(Path(sys.prefix).parent), "venv": Path(sys.prefix).name}))
    return subprocess.run([exe, "--pythonpath", sys.executable, str(tmp_path / name)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)


def test_generated_types_check_with_the_names_that_work_at_runtime(tmp_path):
    ok = _mypy(tmp_path, "ok.py", TYPED_OK)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # The camelCase stub Pulumi's generator writes would type-check and then fail at runtime;
    # the fixed stubs refuse it.
    bad = _mypy(tmp_path, "bad.py", TYPED_BAD)
    assert bad.returncode != 0 and "subscriptionId" in bad.stdout, bad.stdout + bad.stderr
    # The same with pyright (enum inputs as plain strings included).
    ok = _pyright(tmp_path, "ok.py")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = _pyright(tmp_path, "bad.py")
    assert bad.returncode != 0 and "subscriptionId" in bad.stdout, bad.stdout + bad.stderr
    # And at runtime the snake_case names read the environment.
    code = "import pulumi_datasnap as d; print(d.config.subscription_id, d.config.client_certificate_path)"
    env = dict(os.environ, ARM_SUBSCRIPTION_ID="sub-from-env", ARM_CLIENT_CERTIFICATE_PATH="/sp.pem")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert run.stdout.split() == ["sub-from-env", "/sp.pem"]


# --- credentials and endpoints -----------------------------------------------------------

PROGRAM = '''\
import pulumi
import pulumi_datasnap as datasnap

me = datasnap.get_client_config()
versions = datasnap.get_versions(resource_group_name="datasets-rg", dataset="training-data")
pulumi.export("objectId", me.object_id)
pulumi.export("count", len(versions.versions))
'''


def _certificate(tmp_path: Path, name: str):
    """A self-signed RSA certificate: a PEM (certificate + key) and a password-protected PFX."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_pem = tmp_path / f"{name}-cert.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    both = tmp_path / f"{name}.pem"
    both.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pfx = tmp_path / f"{name}.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, None, serialization.BestAvailableEncryption(b"pfx-password")))
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()
    return cert_pem, both, pfx, thumbprint


def _without_secret(env: dict) -> dict:
    return {k: v for k, v in env.items() if k != "ARM_CLIENT_SECRET"}


def test_client_certificate_credentials_pem_and_pfx(tmp_path, make_stack):
    registered_cert, pem, pfx, _ = _certificate(tmp_path, "registered")
    _, other_pem, _, other_thumbprint = _certificate(tmp_path, "unregistered")
    emu = start_emulator("--client-certificate", str(registered_cert))
    try:
        base = _without_secret(emu.env())
        for extra in ({"ARM_CLIENT_CERTIFICATE_PATH": str(pem)},
                      {"ARM_CLIENT_CERTIFICATE_PATH": str(pfx), "ARM_CLIENT_CERTIFICATE_PASSWORD": "pfx-password"}):
            st = make_stack(PROGRAM, env={**base, **extra})
            st.up()
            assert st.outputs() == {"objectId": "22222222-2222-4222-8222-222222222222", "count": 0}
        # A certificate the app does not know: Entra ID's error, with the thumbprint.
        st = make_stack(PROGRAM, env={**base, "ARM_CLIENT_CERTIFICATE_PATH": str(other_pem)})
        p = st.run("preview", "--stack", st.name, check=False)
        out = p.stdout + p.stderr
        assert p.returncode != 0 and "AADSTS700027" in out and other_thumbprint in out, out
        # A wrong PFX password names the file and the password setting, never the password.
        st = make_stack(PROGRAM, env={**base, "ARM_CLIENT_CERTIFICATE_PATH": str(pfx), "ARM_CLIENT_CERTIFICATE_PASSWORD": "wrong-pw"})
        p = st.run("preview", "--stack", st.name, check=False)
        out = p.stdout + p.stderr
        assert p.returncode != 0 and "registered.pfx" in out and "clientCertificatePassword" in out, out
        assert "wrong-pw" not in out
    finally:
        emu.proc.terminate()
        emu.proc.wait(timeout=10)


def test_service_principal_without_a_credential_is_a_configuration_error(emulator, make_stack):
    env = {k: v for k, v in _without_secret(emulator.env()).items() if k != "ARM_USE_CLI"}
    st = make_stack(PROGRAM, env=env)
    p = st.run("preview", "--stack", st.name, check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0, out
    for key in ("clientSecret", "ARM_CLIENT_SECRET", "clientCertificatePath", "useOidc", "useMsi"):
        assert key in out, out
    # Not a fall-through to the Azure CLI (which is not installed here).
    assert "az login" not in out and "not found" not in out, out


def test_an_arm_endpoint_that_refuses_connections_fails_fast_and_says_what_it_retries(emulator, make_stack, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    # The authority (tokens) answers; ARM does not.
    st = make_stack(PROGRAM, env=emulator.env(ARM_ENDPOINT=f"https://127.0.0.1:{closed}"))
    events = tmp_path / "events.json"
    started = time.monotonic()
    # The engine's event log (a debug command) holds every diagnostic, the ephemeral ones too.
    p = st.run("preview", "--stack", st.name, "--event-log", str(events), check=False,
               extra_env={"PULUMI_DEBUG_COMMANDS": "true"})
    elapsed = time.monotonic() - started
    out = p.stdout + p.stderr
    assert p.returncode != 0 and "could not reach Azure" in out and "ARM_ENDPOINT" in out, out
    assert elapsed < 30, f"took {elapsed:.1f} s"
    messages = [json.loads(line).get("diagnosticEvent", {}).get("message", "") for line in events.read_text().splitlines() if line.strip()]
    retries = [m for m in messages if "retrying GET" in m]
    assert any("retry 1 of 3, 2 left" in m and "no connection" in m for m in retries), messages
    assert any("0 left" in m for m in retries), messages
    print(f"\n[refused] preview failed after {elapsed:.1f} s with {len(retries)} retry lines")


def test_emulator_start_line_as_shell_exports(make_stack, tmp_path):
    proc = subprocess.Popen([str(BIN_DIR / "datasnap-emulator"), "serve", "--seed", "--exports"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("export ARM_ENDPOINT="), line
        (tmp_path / "emulator.env").write_text(line + "\n")
        # One line points a shell at it: source it, and the shell's environment has every variable.
        shown = subprocess.run(["bash", "-c", f". {tmp_path / 'emulator.env'} && env"], capture_output=True, text=True, check=True).stdout
        env = dict(l.split("=", 1) for l in shown.splitlines() if l.startswith("ARM_"))
        assert set(env) == {"ARM_ENDPOINT", "ARM_AUTHORITY_HOST", "ARM_CA_CERT_FILE", "ARM_TENANT_ID",
                            "ARM_SUBSCRIPTION_ID", "ARM_CLIENT_ID", "ARM_CLIENT_SECRET"}, env
        # ... and a program run with just that environment reaches it.
        st = make_stack(PROGRAM, env=env)
        st.up()
        assert st.outputs()["count"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
