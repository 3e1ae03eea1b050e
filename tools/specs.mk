# tools/specs.mk: Microsoft's DiskRP spec files, included by the main Makefile.
#
#   make specs   the spec folder the tests read, exported to every recipe as
#                $AZURE_REST_API_SPECS
#
# The files come from Azure/azure-rest-api-specs (MIT), pinned by commit and sha256 in
# tools/azure-specs.lock; they are fetched, never committed. With AZURE_REST_API_SPECS set,
# `make specs` verifies that copy (tools/azure-specs.py verify) and the tests use it. Unset,
# the files are fetched and verified once into
# $(XDG_CACHE_HOME or ~/.cache)/datasnap/azure-specs-<short hash of the lock file>, outside the
# repo; AZURE_SPECS_BASE_URL names another host serving {commit}/specification/{path}.

SPECS_LOCK := $(ROOT)/tools/azure-specs.lock
SPECS_TOOL := $(ROOT)/tools/azure-specs.py
SPECS_LOCK_HASH := $(shell (sha256sum $(SPECS_LOCK) 2>/dev/null || shasum -a 256 $(SPECS_LOCK)) | cut -c1-12)
SPECS_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/datasnap/azure-specs-$(SPECS_LOCK_HASH)

.PHONY: specs

ifeq ($(strip $(AZURE_REST_API_SPECS)),)
override AZURE_REST_API_SPECS := $(SPECS_CACHE)

specs: $(SPECS_CACHE)/.verified

# Written by the fetch once every file is there with its sha256.
$(SPECS_CACHE)/.verified: $(SPECS_LOCK)
	@echo "[specs] Azure/azure-rest-api-specs files of tools/azure-specs.lock -> $(SPECS_CACHE)"
	@$(PYTHON) $(SPECS_TOOL) fetch --dest $(SPECS_CACHE)
else
override AZURE_REST_API_SPECS := $(abspath $(AZURE_REST_API_SPECS))

specs:
	@$(PYTHON) $(SPECS_TOOL) verify --dir $(AZURE_REST_API_SPECS)
endif

export AZURE_REST_API_SPECS
