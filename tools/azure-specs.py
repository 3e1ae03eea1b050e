#!/usr/bin/env python3
"""Microsoft's DiskRP spec files, pinned by tools/azure-specs.lock (python3 stdlib only).

The files come from the GitHub repository Azure/azure-rest-api-specs (MIT License). They are
fetched, never committed: each line of the lock names a commit, a sha256 and a path relative
to `specification/`, and this tool keeps the repository's layout so every `$ref` resolves.

  azure-specs.py fetch [--base-url URL] --dest DIR
      downloads {URL}/{commit}/specification/{path} for every locked file that DIR does not
      already hold with the right sha256, checks it, writes it atomically (a temporary file,
      then a rename) to DIR/specification/{path}, and writes DIR/.verified at the end.
      URL defaults to $AZURE_SPECS_BASE_URL, else
      https://raw.githubusercontent.com/Azure/azure-rest-api-specs.
  azure-specs.py verify --dir DIR
      checks an existing copy: every locked file present, every sha256 right. Writes nothing.

Exit status: 0 when done, 1 on a wrong checksum, a missing file or a failed download, 2 on
bad usage or a malformed lock file.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

DEFAULT_BASE_URL = "https://raw.githubusercontent.com/Azure/azure-rest-api-specs"
DEFAULT_LOCK = Path(__file__).resolve().parent / "azure-specs.lock"
TIMEOUT_S = 30
STAMP = ".verified"
HINT = (
    "set AZURE_REST_API_SPECS to an existing copy of the specs (a folder holding "
    "specification/...) and run make again"
)


class Failure(Exception):
    """A problem to report on stderr, exit status 1."""


@dataclass(frozen=True)
class Entry:
    commit: str
    sha256: str
    path: str  # relative to specification/

    @property
    def rel(self) -> str:
        return f"specification/{self.path}"


def say(msg: str) -> None:
    print(f"[specs] {msg}", file=sys.stderr, flush=True)


def read_lock(lock: Path) -> list[Entry]:
    try:
        text = lock.read_text(encoding="utf-8")
    except OSError as e:
        raise SystemExit(f"azure-specs: cannot read the lock file {lock}: {e}")
    entries: list[Entry] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        bad = len(parts) != 3
        if not bad:
            commit, sha, path = parts
            pure = PurePosixPath(path)
            bad = (
                not re.fullmatch(r"[0-9a-f]{40}", commit)
                or not re.fullmatch(r"[0-9a-f]{64}", sha)
                or pure.is_absolute()
                or ".." in pure.parts
                or "\\" in path
            )
        if bad:
            raise SystemExit(
                f"azure-specs: {lock}:{n}: expected `<commit> <sha256> <path>`, got: {line}"
            )
        if path in seen:
            raise SystemExit(f"azure-specs: {lock}:{n}: {path} is listed twice")
        seen.add(path)
        entries.append(Entry(commit, sha, path))
    if not entries:
        raise SystemExit(f"azure-specs: {lock} lists no files")
    return entries


def sha256_of(path: Path) -> str | None:
    """The file's sha256, or None when it is not a readable file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def mismatch(e: Entry, got: str, where: str) -> str:
    return (
        f"checksum mismatch for {e.rel}\n"
        f"  expected sha256 {e.sha256}\n"
        f"  got      sha256 {got}\n"
        f"  {where}"
    )


def url_for(base: str, e: Entry) -> str:
    return f"{base.rstrip('/')}/{e.commit}/specification/{urllib.parse.quote(e.path)}"


def download(url: str) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "datasnap-azure-specs"})
    host = urllib.parse.urlsplit(url).netloc or url
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return resp.read()
    except urllib.error.HTTPError as err:
        raise Failure(f"download failed: HTTP {err.code} {err.reason}\n  url {url}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        reason = getattr(err, "reason", err)
        raise Failure(
            f"cannot reach {host} ({reason}; timeout {TIMEOUT_S} s)\n"
            f"  url {url}\n"
            f"  Without network access, {HINT}."
        ) from None


def write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def fetch(entries: list[Entry], base: str, dest: Path, lock: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    stamp = dest / STAMP
    remove(stamp)  # a fetch that fails leaves no stamp behind
    fetched = kept = 0
    for e in entries:
        target = dest / e.rel
        if sha256_of(target) == e.sha256:
            kept += 1
            continue
        url = url_for(base, e)
        data = download(url)
        got = hashlib.sha256(data).hexdigest()
        if got != e.sha256:
            remove(target)  # never leave a wrong copy where a right one belongs
            raise Failure(mismatch(e, got, f"url {url}") + "\n  The file was not written.")
        write_atomically(target, data)
        fetched += 1
    verify(entries, dest)
    lock_sha = hashlib.sha256(lock.read_bytes()).hexdigest()
    write_atomically(stamp, f"{lock_sha}  {lock.name}\n{base}\n".encode())
    say(f"{len(entries)} files verified in {dest} ({fetched} downloaded, {kept} already there)")


def verify(entries: list[Entry], root: Path) -> None:
    if not (root / "specification").is_dir():
        raise Failure(
            f"{root} holds no specification/ folder: it is not a copy of the specs.\n"
            f"  Point AZURE_REST_API_SPECS at a copy, or unset it so that make fetches one."
        )
    problems = []
    for e in entries:
        got = sha256_of(root / e.rel)
        if got is None:
            problems.append(f"missing file {e.rel}")
        elif got != e.sha256:
            problems.append(mismatch(e, got, f"file {root / e.rel}"))
    if problems:
        raise Failure(
            f"{root} does not match tools/azure-specs.lock ({len(problems)} of "
            f"{len(entries)} files):\n" + "\n".join(problems)
        )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="azure-specs.py",
        description="Fetch or verify Microsoft's spec files pinned by tools/azure-specs.lock.",
    )
    ap.add_argument("--lock", type=Path, default=DEFAULT_LOCK, help="the lock file (default: %(default)s)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="download the locked files into DEST, checking each sha256")
    f.add_argument(
        "--base-url",
        default=os.environ.get("AZURE_SPECS_BASE_URL") or DEFAULT_BASE_URL,
        help="files are at {base}/{commit}/specification/{path} "
        "(default: $AZURE_SPECS_BASE_URL, else %s)" % DEFAULT_BASE_URL,
    )
    f.add_argument("--dest", type=Path, required=True, help="the copy to fill")
    v = sub.add_parser("verify", help="check that DIR holds every locked file with its sha256")
    v.add_argument("--dir", type=Path, required=True, help="the copy to check")
    args = ap.parse_args(argv)

    entries = read_lock(args.lock)
    started = time.monotonic()
    try:
        if args.cmd == "fetch":
            fetch(entries, args.base_url, args.dest.resolve(), args.lock)
        else:
            root = args.dir.resolve()
            verify(entries, root)
            say(f"{len(entries)} files verified in {root} ({time.monotonic() - started:.1f} s)")
    except Failure as err:
        print(f"azure-specs: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"azure-specs: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
