# tools/ci.mk: the tools of the CI recipe's tests (examples/ci, tests/test_ci_recipe.py),
# included by the main Makefile.
#
#   make actionlint   rhysd/actionlint, built once from the Go module proxy into the cache
#                     ($DATASNAP_TOOLS_CACHE, default ~/.cache/datasnap/actionlint-<version>/);
#                     its path is written to .tools/actionlint-path
#   make azurite      Microsoft's Azure Storage emulator (npm `azurite`, pinned by
#                     tools/azurite/package-lock.json) in tools/azurite/node_modules; the
#                     folder holding `azurite-blob` is written to .tools/azurite-dir
#
# The tests read DATASNAP_ACTIONLINT (the binary) and DATASNAP_AZURITE (the folder holding
# azurite-blob); a missing one fails, never skips.

ACTIONLINT_VERSION := v1.7.12
# The same cache folder as tools/pulumi-cli.sh's.
CI_TOOLS_CACHE := $(or $(DATASNAP_TOOLS_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/datasnap)
ACTIONLINT_DIR := $(CI_TOOLS_CACHE)/actionlint-$(ACTIONLINT_VERSION)
ACTIONLINT := $(ACTIONLINT_DIR)/actionlint
AZURITE_DIR := $(ROOT)/tools/azurite
AZURITE_BIN := $(AZURITE_DIR)/node_modules/.bin

.PHONY: actionlint azurite

actionlint: $(ACTIONLINT)
	@mkdir -p $(TOOLS_DIR)
	@echo "$(ACTIONLINT)" > $(TOOLS_DIR)/actionlint-path
	@echo "[tools] actionlint: $(ACTIONLINT)"

# Skipped when the binary is there; it is moved into place last, so an interrupted build is
# redone.
$(ACTIONLINT):
	@command -v go >/dev/null || { echo "[tools] go is required to build actionlint $(ACTIONLINT_VERSION)"; exit 1; }
	@echo "[tools] go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) -> $(ACTIONLINT_DIR)"
	@mkdir -p $(ACTIONLINT_DIR)/build
	@GOBIN=$(ACTIONLINT_DIR)/build go install -trimpath -ldflags '-s -w' github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	@mv $(ACTIONLINT_DIR)/build/actionlint $@
	@rm -rf $(ACTIONLINT_DIR)/build

azurite: $(AZURITE_DIR)/node_modules/.package-lock.json
	@mkdir -p $(TOOLS_DIR)
	@echo "$(AZURITE_BIN)" > $(TOOLS_DIR)/azurite-dir
	@echo "[tools] azurite: $(AZURITE_BIN)/azurite-blob"

$(AZURITE_DIR)/node_modules/.package-lock.json: $(AZURITE_DIR)/package.json $(AZURITE_DIR)/package-lock.json
	@echo "[tools] npm ci in tools/azurite"
	@cd $(AZURITE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Microsoft's pyright (npm, pinned by tools/pyright/package-lock.json): the SDK typing test
# checks the generated types with it beside mypy. The folder holding `pyright` is written to
# .tools/pyright-dir.
PYRIGHT_DIR := $(ROOT)/tools/pyright
PYRIGHT_BIN := $(PYRIGHT_DIR)/node_modules/.bin

.PHONY: pyright
pyright: $(PYRIGHT_DIR)/node_modules/.package-lock.json
	@mkdir -p $(TOOLS_DIR)
	@echo "$(PYRIGHT_BIN)" > $(TOOLS_DIR)/pyright-dir

$(PYRIGHT_DIR)/node_modules/.package-lock.json: $(PYRIGHT_DIR)/package.json $(PYRIGHT_DIR)/package-lock.json
	@echo "[tools] npm ci in tools/pyright"
	@cd $(PYRIGHT_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
