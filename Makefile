# datasnap: the one entry point. `make demo` and `make test` do all the set-up a fresh
# machine needs (Rust, Go, Python 3.11+ and Node.js are the prerequisites).
#
#   make tools   the Pulumi CLI + Python language host (cached outside the repo) and .venv/
#   make build   release binaries into bin/
#   make sdk     stamp schema.json (version, download URL) and regenerate sdk/python
#   make dist    release artifacts into dist/: plugin tarball + sha256, wheel, sdist
#   make test    every test: Rust, validator, end to end
#   make demo    the main job against the local emulator
#   make bench   the performance table

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
PYTHON ?= python3
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
TOOLS_DIR := $(ROOT)/.tools
# The folder holding `pulumi`, written by `make tools`.
PULUMI_DIR = $(shell cat $(TOOLS_DIR)/pulumi-dir 2>/dev/null)
# Microsoft's spec files: $AZURE_REST_API_SPECS, or a pinned copy fetched into the cache
# (tools/specs.mk, `make specs`).
CARGO ?= cargo
# The one version: the workspace Cargo.toml's. It flows into the binary, schema.json, the
# SDK and the artifact names (tests/test_release.py fails if any disagree).
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
# Where `pulumi install` fetches the plugin tarball: schema.json's pluginDownloadURL, hence
# the SDK's pulumi-plugin.json `server`. Pulumi replaces $${VERSION} and appends the tarball
# name. Point it at the release host when publishing (README, "Publishing a release"), e.g.
# PLUGIN_DOWNLOAD_URL=github://api.github.com/<owner>/<repo> for GitHub Releases.
PLUGIN_DOWNLOAD_URL ?= https://example.invalid/datasnap/releases/download/v$${VERSION}
DIST := $(ROOT)/dist
PLUGIN_TARBALL := pulumi-resource-datasnap-v$(VERSION)-linux-amd64.tar.gz

.PHONY: help tools pulumi venv build schema sdk dist test test-rust test-e2e demo bench lint

help:
	@sed -n '1,12p' Makefile | sed 's/^# \{0,1\}//'

tools: pulumi venv actionlint azurite pyright

pulumi:
	@mkdir -p $(TOOLS_DIR)
	@bash tools/pulumi-cli.sh | tail -n 1 > $(TOOLS_DIR)/pulumi-dir.tmp
	@mv $(TOOLS_DIR)/pulumi-dir.tmp $(TOOLS_DIR)/pulumi-dir
	@echo "[tools] pulumi: $$(cat $(TOOLS_DIR)/pulumi-dir)/pulumi"

# The venv holds the Pulumi Python SDK, pytest and our generated SDK (reinstalled when
# sdk/python changes).
venv: $(VENV)/.sdk-stamp

$(VENV)/.base-stamp: tools/requirements-dev.txt
	@echo "[tools] python venv in .venv/"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q -r tools/requirements-dev.txt
	@touch $@

$(VENV)/.sdk-stamp: $(VENV)/.base-stamp $(shell find sdk/python -type f -not -path '*/__pycache__/*' 2>/dev/null)
	@echo "[tools] installing sdk/python into .venv/"
	@rm -rf $(TOOLS_DIR)/sdk-build && mkdir -p $(TOOLS_DIR) && cp -r sdk/python $(TOOLS_DIR)/sdk-build
	@$(PY) -m pip install -q --no-deps --force-reinstall $(TOOLS_DIR)/sdk-build
	@touch $@

build:
	@echo "[build] cargo build --release (provider, emulator)"
	@$(CARGO) build --release -q -p pulumi-resource-datasnap -p datasnap-emulator
	@mkdir -p bin
	@install -m 0755 target/release/pulumi-resource-datasnap bin/
	@install -m 0755 target/release/datasnap-emulator bin/

schema:
	@$(PYTHON) tools/stamp-schema.py schema.json "$(VERSION)" '$(PLUGIN_DOWNLOAD_URL)'

sdk: pulumi schema
	@rm -rf sdk/python
	@PULUMI_SKIP_UPDATE_CHECK=true PULUMI_HOME=$(TOOLS_DIR)/pulumi-home \
	  $(PULUMI_DIR)/pulumi package gen-sdk schema.json --language python --out sdk >/dev/null
	@$(PYTHON) tools/fix-config-stubs.py sdk/python
	@echo "[sdk] regenerated sdk/python from schema.json"

# Release artifacts. The SDK is built from a copy (setuptools writes build/ and *.egg-info/
# beside the sources), without build isolation so the pinned setuptools of .venv/ builds it.
dist: tools sdk build
	@rm -rf $(DIST) $(TOOLS_DIR)/dist-stage && mkdir -p $(DIST) $(TOOLS_DIR)/dist-stage/plugin
	@install -m 0755 bin/pulumi-resource-datasnap $(TOOLS_DIR)/dist-stage/plugin/
	@install -m 0644 README.md LICENSE $(TOOLS_DIR)/dist-stage/plugin/
	@tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' \
	  -C $(TOOLS_DIR)/dist-stage/plugin -czf $(DIST)/$(PLUGIN_TARBALL) \
	  pulumi-resource-datasnap README.md LICENSE
	@cd $(DIST) && sha256sum $(PLUGIN_TARBALL) > $(PLUGIN_TARBALL).sha256
	@cp -r sdk/python $(TOOLS_DIR)/dist-stage/sdk
	@cp sdk/python/pulumi_datasnap/README.md LICENSE $(TOOLS_DIR)/dist-stage/sdk/
	@env -u PYTHONDONTWRITEBYTECODE $(PY) -m build --no-isolation --sdist --wheel --outdir $(DIST) $(TOOLS_DIR)/dist-stage/sdk \
	  > $(TOOLS_DIR)/dist-stage/build.log 2>&1 || { cat $(TOOLS_DIR)/dist-stage/build.log; exit 1; }
	@if grep -i 'warn' $(TOOLS_DIR)/dist-stage/build.log; then \
	  echo "[dist] python -m build printed warnings (above)"; exit 1; fi
	@echo "[dist] $(VERSION) into dist/:" && cd $(DIST) && ls -l | tail -n +2 | awk '{print "  " $$5 "  " $$9}'

lint:
	@echo "[test] cargo fmt --check, cargo clippy -D warnings"
	@$(CARGO) fmt --all -- --check
	@$(CARGO) clippy -q --workspace --all-targets -- -D warnings

# Microsoft's LRO test server (npm, pinned by its lockfile) for the poller and retry tests.
LRO_TESTSERVER := provider/tests/lro-testserver
$(LRO_TESTSERVER)/node_modules/.package-lock.json: $(LRO_TESTSERVER)/package.json $(LRO_TESTSERVER)/package-lock.json
	@echo "[tools] npm ci in $(LRO_TESTSERVER)"
	@cd $(LRO_TESTSERVER) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The emulator, the LRO test server and the spec files must be there: a missing one fails,
# never skips.
test-rust: build $(LRO_TESTSERVER)/node_modules/.package-lock.json specs
	@echo "[test] cargo test (workspace)"
	@DATASNAP_BIN_DIR=$(ROOT)/bin DATASNAP_EMULATOR=$(ROOT)/bin/datasnap-emulator \
	  DATASNAP_REQUIRE_EMULATOR=1 DATASNAP_REQUIRE_LRO_TESTSERVER=1 DATASNAP_REQUIRE_SPECS=1 \
	  $(CARGO) test -q --workspace 2>&1

# dist: the clean-machine install tests (tests/test_install.py) use the release artifacts.
test-e2e: tools build specs dist actionlint azurite pyright
	@echo "[test] end to end (pytest, real pulumi CLI)"
	@PATH="$(PULUMI_DIR):$$PATH" DATASNAP_BIN_DIR=$(ROOT)/bin DATASNAP_PULUMI_DIR=$(PULUMI_DIR) \
	  DATASNAP_DIST_DIR=$(DIST) DATASNAP_ACTIONLINT=$(ACTIONLINT) DATASNAP_AZURITE=$(AZURITE_BIN) \
	  DATASNAP_PYRIGHT=$(PYRIGHT_BIN)/pyright \
	  $(PY) -m pytest -q tests/ -p no:cacheprovider --timeout 900

test: tools build lint test-rust validate-arm test-e2e

demo: tools build
	@PATH="$(PULUMI_DIR):$$PATH" DATASNAP_BIN_DIR=$(ROOT)/bin $(PY) tools/demo.py

bench: tools build
	@PATH="$(PULUMI_DIR):$$PATH" DATASNAP_BIN_DIR=$(ROOT)/bin $(PY) tools/bench.py

include tools/specs.mk
include tools/ci.mk
-include emulator/emulator.mk
