#!/usr/bin/env python3
"""Write the release's version and plugin download URL into schema.json.

`make schema` runs this with the version from the workspace Cargo.toml and the Makefile's
PLUGIN_DOWNLOAD_URL, so one version flows into the binary (which embeds schema.json), the
Python SDK generated from it (`pulumi-plugin.json`'s `version` and `server`) and the
release artifacts. The file is rewritten only when a value changes.

usage: stamp-schema.py SCHEMA VERSION DOWNLOAD_URL
"""

import json
import sys


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    path, version, url = sys.argv[1:]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    schema = json.loads(text)
    # Keep the key order: version after displayName, pluginDownloadURL after publisher.
    out = {}
    for key, value in schema.items():
        if key == "pluginDownloadURL":
            continue
        out[key] = version if key == "version" else value
        if key == "publisher":
            out["pluginDownloadURL"] = url
    if "pluginDownloadURL" not in out:
        out["pluginDownloadURL"] = url
    new = json.dumps(out, indent=2, ensure_ascii=False) + "\n"
    if new != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        print(f"[schema] {path}: version {version}, pluginDownloadURL {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
