# emulator/emulator.mk: the emulator's make targets, included by the main Makefile.
#
#   make build-emulator   release binary -> bin/datasnap-emulator
#   make validate-arm     full scenario + replay of Microsoft's examples, recorded, then
#                         validated by Microsoft's oav LiveValidator (must be 0 errors)
#   make bench-emulator   GETs per second over keep-alive HTTPS, emulator on one core
#
# Microsoft's DiskRP spec folder: $AZURE_REST_API_SPECS, set and exported by the main Makefile
# (tools/specs.mk): a pinned, checksummed copy of Azure/azure-rest-api-specs at the commits in
# tools/azure-specs.lock, fetched into the cache, or an existing copy the variable names.

EMULATOR_BIN ?= bin/datasnap-emulator
EMULATOR_VALIDATE_DIR := emulator/validate
EMULATOR_RECORD_DIR ?= out/validate-arm

# The emulator runs on CPU 0; the load generator on CPU 1 when there are two or more.
EMULATOR_BENCH_PIN := $(shell command -v taskset >/dev/null 2>&1 && [ "$$(nproc)" -ge 2 ] && echo "taskset -c 1")

.PHONY: build-emulator validate-arm bench-emulator validate-arm-tools

build-emulator:
	cargo build --release -p datasnap-emulator
	mkdir -p bin
	install -m 0755 target/release/datasnap-emulator $(EMULATOR_BIN)

# oav 4.0.3, pinned by package.json and package-lock.json.
$(EMULATOR_VALIDATE_DIR)/node_modules/.package-lock.json: $(EMULATOR_VALIDATE_DIR)/package.json $(EMULATOR_VALIDATE_DIR)/package-lock.json
	cd $(EMULATOR_VALIDATE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

validate-arm-tools: $(EMULATOR_VALIDATE_DIR)/node_modules/.package-lock.json

validate-arm: validate-arm-tools build-emulator specs
	rm -rf $(EMULATOR_RECORD_DIR)
	mkdir -p $(EMULATOR_RECORD_DIR)
	node $(EMULATOR_VALIDATE_DIR)/scenario.js $(EMULATOR_BIN) $(EMULATOR_RECORD_DIR)/scenario
	DATASNAP_EMULATOR_RECORD_DIR=$(abspath $(EMULATOR_RECORD_DIR)) cargo test -p datasnap-emulator --test examples
	node $(EMULATOR_VALIDATE_DIR)/validate.js $(EMULATOR_RECORD_DIR)

bench-emulator: build-emulator
	cargo build --release -p datasnap-emulator --example bench
	$(EMULATOR_BENCH_PIN) target/release/examples/bench --emulator $(EMULATOR_BIN) --cpu 0
