#!/usr/bin/env bash
# Puts the real Pulumi CLI and its Python language host in one cache folder outside the
# repository, so every clone reuses them. Uses a `pulumi` on PATH when it is new enough;
# otherwise builds the pinned release from the Go module proxy through a wrapper module
# (pulumi's own go.mod files carry replace directives, which `go install` refuses).
# Prints the folder holding `pulumi` as its last line.
set -euo pipefail

V="${PULUMI_VERSION:-3.274.1}"
CACHE_ROOT="${DATASNAP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/datasnap}"
CACHE="$CACHE_ROOT/pulumi-v$V"
LH=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
LDF="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$V"
step() { printf '[tools] %s\n' "$*" >&2; }

version_ok() { # $1: a pulumi binary; true if it reports at least $V
  local have
  have=$("$1" version 2>/dev/null | sed 's/^v//') || return 1
  [ -n "$have" ] || return 1
  [ "$(printf '%s\n%s\n' "$V" "$have" | sort -V | head -n1)" = "$V" ]
}
has_python_host() { [ -x "$1/pulumi-language-python" ] && [ -f "$1/pulumi-language-python-exec" ]; }

if p=$(command -v pulumi 2>/dev/null) && version_ok "$p"; then
  d=$(dirname "$(readlink -f "$p")")
  if has_python_host "$d"; then step "pulumi on PATH is new enough: $p"; echo "$d"; exit 0; fi
fi
if [ -f "$CACHE/bin/.stamp" ] && version_ok "$CACHE/bin/pulumi" && has_python_host "$CACHE/bin"; then
  step "pulumi v$V already built in $CACHE/bin"; echo "$CACHE/bin"; exit 0
fi

command -v go >/dev/null || { step "go is required to build pulumi v$V (install Go 1.25 or newer)"; exit 1; }
mkdir -p "$CACHE/mod" "$CACHE/bin"
cd "$CACHE/mod"
printf 'module localtools/pulumicli\n\ngo 1.25.11\n' > go.mod
rm -f go.sum
go mod edit -replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e

step "1/6 resolving the release commit of sdk/v3@v$V (language host is untagged)"
info=$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$V")
hash=$(printf '%s' "$info" | python3 -c 'import json,sys; d=json.load(sys.stdin); print((d.get("Origin") or {}).get("Hash",""))')
time=$(printf '%s' "$info" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Time",""))')
step "    commit ${hash:-?} time ${time:-?}"

step "2/6 fetching the Python language host at that commit"
ok=""
if [ -n "$hash" ] && go get "$LH@$hash" >&2; then ok=1; fi
if [ -z "$ok" ] && [ -n "$time" ] && [ -n "$hash" ]; then
  ts=$(python3 -c 'import sys,datetime; t=datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")); print(t.astimezone(datetime.timezone.utc).strftime("%Y%m%d%H%M%S"))' "$time")
  pv="v3.0.0-$ts-${hash:0:12}"
  step "    bare hash refused; trying pseudo-version $pv"
  go get "$LH@$pv" >&2 && ok=1
fi
[ -n "$ok" ] || { step "could not fetch $LH at the v$V commit"; exit 1; }

step "3/6 fetching the CLI module pkg/v3@v$V"
go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$V" >&2
go get "github.com/pulumi/pulumi/pkg/v3@v$V" "github.com/pulumi/pulumi/sdk/v3@v$V" >&2
go list -m github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3 "$LH" >&2

step "4/6 building pulumi (a cold build takes many minutes on 2 cores)"
CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace -ldflags "$LDF" -o "$CACHE/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
step "5/6 building pulumi-language-python"
CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace -ldflags "$LDF" -o "$CACHE/bin/pulumi-language-python" "$LH"
install -m 0755 "$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)/python/cmd/pulumi-language-python-exec" "$CACHE/bin/"

step "6/6 smoke test"
got=$(PULUMI_SKIP_UPDATE_CHECK=true "$CACHE/bin/pulumi" version)
[ "$got" = "v$V" ] || { step "built pulumi reports '$got', expected v$V"; exit 1; }
echo "v$V" > "$CACHE/bin/.stamp"
step "pulumi $got ready in $CACHE/bin"
echo "$CACHE/bin"
