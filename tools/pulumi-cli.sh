#!/usr/bin/env bash
# Puts the real Pulumi CLI and a Python language host in one cache folder outside the repository,
# so every clone reuses them. Prints the folder holding `pulumi` as its last stdout line.
#
# - `pulumi` is the upstream CLI, built from the Go module proxy through the wrapper module in
#   tools/pulumi-cli (pulumi's own go.mod files carry replace directives, which `go install` refuses).
# - `pulumi-language-python` is NOT upstream's: upstream's host is an untagged Go module that the
#   proxy refuses to serve (403 at every version), so tools/pulumi-cli/langhost is our own small
#   host written against the served pkg/v3 and sdk/v3 libraries. It runs programs through
#   upstream's executor script, reports providers from installed SDKs' pulumi-plugin.json, and
#   generates Python SDKs with pkg/v3's codegen (`pulumi package gen-sdk --language python`).
# - `pulumi-language-python-exec` is upstream's executor script, copied from the sdk/v3 module.
#
# A `pulumi` on PATH is reused when it is new enough and has a Python host beside it; the cache is
# reused when its stamp matches the version and a hash of tools/pulumi-cli (so editing the host
# rebuilds it). Env: PULUMI_VERSION (default 3.274.1), DATASNAP_TOOLS_CACHE.
set -euo pipefail

V="${PULUMI_VERSION:-3.274.1}"
CACHE_ROOT="${DATASNAP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/datasnap}"
CACHE="$CACHE_ROOT/pulumi-v$V"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pulumi-cli"
LDF="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$V"
BUILD_FLAGS=(-trimpath -tags osusergo,grpcnotrace -ldflags "$LDF")
step() { printf '[tools] %s\n' "$*" >&2; }

version_ok() { # $1: a pulumi binary; true if it reports at least $V
  local have
  have=$(PULUMI_SKIP_UPDATE_CHECK=true "$1" version 2>/dev/null | sed 's/^v//') || return 1
  [ -n "$have" ] || return 1
  [ "$(printf '%s\n%s\n' "$V" "$have" | sort -V | head -n1)" = "$V" ]
}
has_python_host() { [ -x "$1/pulumi-language-python" ] && [ -f "$1/pulumi-language-python-exec" ]; }
src_hash() { # hash of the wrapper module and the host sources, names included
  (cd "$SRC" && find go.mod go.sum langhost -type f | LC_ALL=C sort | while read -r f; do
    printf '%s\n' "$f"; cat "$f"; done) | sha256sum | cut -c1-16
}

# A pulumi on PATH that is our own cache is handled by the stamp check below instead, so that a
# change to the host sources still rebuilds it.
if p=$(command -v pulumi 2>/dev/null) && version_ok "$p"; then
  d=$(dirname "$(readlink -f "$p")")
  if [ "$d" != "$(readlink -f "$CACHE/bin" 2>/dev/null)" ] && has_python_host "$d"; then
    step "pulumi on PATH is new enough: $p"; echo "$d"; exit 0
  fi
fi

[ -f "$SRC/go.mod" ] || { step "missing $SRC/go.mod"; exit 1; }
[ "$V" = "$(sed -n 's#^\s*github.com/pulumi/pulumi/pkg/v3 v##p' "$SRC/go.mod" | head -n1)" ] || {
  step "tools/pulumi-cli/go.mod pins another pulumi version than $V; edit it (go get ...@v$V) first"; exit 1; }
HASH=$(src_hash)
WANT="pulumi v$V host $HASH"
if [ "$(cat "$CACHE/bin/.stamp" 2>/dev/null)" = "$WANT" ] && version_ok "$CACHE/bin/pulumi" \
   && has_python_host "$CACHE/bin"; then
  step "pulumi v$V already built in $CACHE/bin"; echo "$CACHE/bin"; exit 0
fi

command -v go >/dev/null || { step "go is required to build pulumi v$V (install Go 1.25 or newer)"; exit 1; }
mkdir -p "$CACHE/mod" "$CACHE/bin"

step "1/5 copying the wrapper module and host sources to $CACHE/mod"
rm -rf "$CACHE/mod/langhost"
cp "$SRC/go.mod" "$SRC/go.sum" "$CACHE/mod/"
cp -R "$SRC/langhost" "$CACHE/mod/langhost"
go -C "$CACHE/mod" list -m github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3 >&2

# The CLI does not depend on our host, so a rebuild for a host change skips it.
CLI_WANT="pulumi v$V sum $(sha256sum "$SRC/go.sum" | cut -c1-16)"
if [ "$(cat "$CACHE/bin/.stamp-cli" 2>/dev/null)" = "$CLI_WANT" ] && version_ok "$CACHE/bin/pulumi"; then
  step "2/5 pulumi v$V already built"
else
  step "2/5 building pulumi v$V (a cold build takes many minutes on 2 cores)"
  rm -f "$CACHE/bin/.stamp-cli"
  CGO_ENABLED=0 go -C "$CACHE/mod" build "${BUILD_FLAGS[@]}" -o "$CACHE/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  echo "$CLI_WANT" > "$CACHE/bin/.stamp-cli"
fi

step "3/5 building our pulumi-language-python"
CGO_ENABLED=0 go -C "$CACHE/mod" build "${BUILD_FLAGS[@]}" -o "$CACHE/bin/pulumi-language-python" ./langhost

step "4/5 installing upstream's pulumi-language-python-exec from sdk/v3"
sdkdir=$(go -C "$CACHE/mod" list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$sdkdir/python/cmd/pulumi-language-python-exec" "$CACHE/bin/"

step "5/5 smoke test"
got=$(PULUMI_SKIP_UPDATE_CHECK=true "$CACHE/bin/pulumi" version)
[ "$got" = "v$V" ] || { step "built pulumi reports '$got', expected v$V"; exit 1; }
echo "$WANT" > "$CACHE/bin/.stamp"
step "pulumi $got ready in $CACHE/bin"
echo "$CACHE/bin"
