# datasnap: the one entry point. `make demo` and `make test` do all the set-up a fresh
# machine needs (Rust, Go, Python 3.11+ and Node.js are the prerequisites).
#
#   make tools   the Pulumi CLI + Python language host (cached outside the repo) and .venv/
#   make build   release binaries into bin/
#   make sdk     regenerate sdk/python from schema.json
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
PULUMI_PY_VERSION := 3.272.0
TOOLS_DIR := $(ROOT)/.tools
# The folder holding `pulumi`, written by `make tools`.
PULUMI_DIR = $(shell cat $(TOOLS_DIR)/pulumi-dir 2>/dev/null)
export AZURE_REST_API_SPECS ?= $(abspath $(ROOT)/../shared/azure-specs)
CARGO ?= cargo

.PHONY: help tools pulumi venv build sdk test test-rust test-e2e demo bench lint

help:
	@sed -n '1,12p' Makefile | sed 's/^# \{0,1\}//'

tools: pulumi venv

pulumi:
	@mkdir -p $(TOOLS_DIR)
	@bash tools/pulumi-cli.sh | tail -n 1 > $(TOOLS_DIR)/pulumi-dir.tmp
	@mv $(TOOLS_DIR)/pulumi-dir.tmp $(TOOLS_DIR)/pulumi-dir
	@echo "[tools] pulumi: $$(cat $(TOOLS_DIR)/pulumi-dir)/pulumi"

# The venv holds the Pulumi Python SDK, pytest and our generated SDK (reinstalled when
# sdk/python changes).
venv: $(VENV)/.sdk-stamp

$(VENV)/.base-stamp:
	@echo "[tools] python venv in .venv/"
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q "pulumi==$(PULUMI_PY_VERSION)" "pytest>=8,<9" "pytest-timeout>=2.3"
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

sdk: pulumi
	@rm -rf sdk/python
	@PULUMI_SKIP_UPDATE_CHECK=true PULUMI_HOME=$(TOOLS_DIR)/pulumi-home \
	  $(PULUMI_DIR)/pulumi package gen-sdk schema.json --language python --out sdk >/dev/null
	@echo "[sdk] regenerated sdk/python from schema.json"

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

# The emulator and the LRO test server must be there: a missing one fails, never skips.
test-rust: build $(LRO_TESTSERVER)/node_modules/.package-lock.json
	@echo "[test] cargo test (workspace)"
	@DATASNAP_BIN_DIR=$(ROOT)/bin DATASNAP_EMULATOR=$(ROOT)/bin/datasnap-emulator \
	  DATASNAP_REQUIRE_EMULATOR=1 DATASNAP_REQUIRE_LRO_TESTSERVER=1 $(CARGO) test -q --workspace 2>&1

test-e2e: tools build
	@echo "[test] end to end (pytest, real pulumi CLI)"
	@PATH="$(PULUMI_DIR):$$PATH" DATASNAP_BIN_DIR=$(ROOT)/bin DATASNAP_PULUMI_DIR=$(PULUMI_DIR) \
	  $(PY) -m pytest -q tests/ -p no:cacheprovider --timeout 900

test: tools build lint test-rust validate-arm test-e2e

demo: tools build
	@PATH="$(PULUMI_DIR):$$PATH" DATASNAP_BIN_DIR=$(ROOT)/bin $(PY) tools/demo.py

bench: tools build
	@PATH="$(PULUMI_DIR):$$PATH" DATASNAP_BIN_DIR=$(ROOT)/bin $(PY) tools/bench.py

-include emulator/emulator.mk
