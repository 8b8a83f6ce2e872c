# Sluice: make help lists the targets.
SHELL := bash
GO ?= go
BIN := bin
# Tests talk to the Snowflake driver with platform detection and minicore off,
# so nothing leaves 127.0.0.1.
export SNOWFLAKE_DISABLE_PLATFORM_DETECTION := true
export SF_DISABLE_MINICORE := true
# duckdb_arrow builds the Snowflake simulator (DuckDB hands it Arrow);
# minicore_disabled keeps the driver from loading its native helper.
TAGS := duckdb_arrow,minicore_disabled
# chdb (ClickHouse 26.x as a shared library, from npm) runs the DDL planned
# for current ClickHouse releases; scripts/install-deps fetches it here.
export CHDB_VERSION := 26.7.3-stable.1
export CHDB_DIR ?= $(HOME)/.cache/sluice/chdb-$(CHDB_VERSION)

.PHONY: help build test check fuzz bench soak differential demo deps fmt vet clean driver-suite

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

deps: ## install what tests need beyond Go (clickhouse-server and postgresql from Debian, libchdb from npm)
	@scripts/install-deps

build: ## build bin/sluice (pure Go, static) and bin/snowsim (cgo, DuckDB)
	CGO_ENABLED=0 $(GO) build -o $(BIN)/sluice ./cmd/sluice
	$(GO) build -tags $(TAGS) -o $(BIN)/snowsim ./cmd/snowsim

test: deps vet fmt ## install deps, then vet, format check, every test and 30 s of fuzzing
	$(GO) test -tags $(TAGS) -count=1 -timeout 45m ./...
	CHDB_LIB_PATH=$(CHDB_DIR)/libchdb.so $(GO) test -tags chdb -count=1 ./engine/clickhouse/chdbtest/
	$(MAKE) fuzz FUZZTIME=30s

# FUZZTIME bounds a fuzzing run; a failing input is written to
# engine/config/testdata/fuzz/FuzzValidate, where go test replays it.
FUZZTIME ?= 60s

fuzz: ## fuzz loading and validating pipeline folders for FUZZTIME (60s)
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME) ./engine/config

check: test ## everything CI runs (same as test)

vet: ## go vet, with and without the simulator's build tags
	$(GO) vet ./...
	$(GO) vet -tags $(TAGS) ./...
	$(GO) vet -tags chdb ./engine/clickhouse/chdbtest/

fmt: ## fail if any file is not gofmt-clean
	@files=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [[ -n "$$files" ]]; then echo "not gofmt-clean:"; echo "$$files"; exit 1; fi

bench: deps ## run the benchmarks (medians: go test -bench . -count 6 | benchstat)
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./...

soak: deps ## serve 500 pipelines on a one-minute schedule for 10 ticks, on one machine and on three workers sharing Postgres; prints figures per tick
	SLUICE_SOAK_PIPELINES=$${SLUICE_SOAK_PIPELINES:-500} SLUICE_SOAK_TICKS=$${SLUICE_SOAK_TICKS:-10} SLUICE_SOAK_SCHEDULE="$${SLUICE_SOAK_SCHEDULE:-* * * * *}" \
		$(GO) test -tags $(TAGS) -count=1 -timeout 90m -run '^TestServeSoak$$' -v ./cmd/sluice

driver-suite: ## run the Snowflake driver's own tests against snowsim, loopback only (root, ~25 min); rewrites testdata/driver-suite/results.txt
	@scripts/driver-suite

differential: deps ## pull (into 18.16 and, through the Native encoder, chdb's 26.x) and push SLUICE_DIFF_ROWS (2000) random values a type of seed SLUICE_DIFF_SEED (the time) and every edge through every mapping (SLUICE_DIFF_REFUSALS=all runs every refusal); prints case counts
	SLUICE_DIFF_ROWS=$${SLUICE_DIFF_ROWS:-2000} SLUICE_DIFF_SEED=$${SLUICE_DIFF_SEED:-$$(date +%s)} \
		$(GO) test -tags $(TAGS) -count=1 -timeout 60m -run '^Test(Push)?Differential$$' -v ./cmd/sluice
	SLUICE_DIFF_ROWS=$${SLUICE_DIFF_ROWS:-2000} SLUICE_DIFF_SEED=$${SLUICE_DIFF_SEED:-$$(date +%s)} CHDB_LIB_PATH=$(CHDB_DIR)/libchdb.so \
		$(GO) test -tags chdb -count=1 -timeout 60m -run '^TestModernDifferential$$' -v ./engine/clickhouse/chdbtest/

demo: build deps ## validate and plan the example pipeline, offline and against a live clickhouse-server
	@scripts/demo

clean: ## remove build output
	rm -rf $(BIN)
