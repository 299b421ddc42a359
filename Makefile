# journeyd: the two commands are `make run` and `make test`; see README.md.
SHELL      := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO         ?= go
BIN        := bin/journeyd
CONFIG     ?= deploy/journeyd.example.yaml
REFERENCE  ?= ../shared/reference
# Packages that start their own ClickHouse share the two cores; -p 2 keeps it to two at once.
TESTFLAGS  ?= -p 2 -timeout 20m

.PHONY: all build run test soak deps bench reference-check compat-check clickhouse-start clickhouse-stop fmt vet snippet clean

all: build

# build: the first build downloads and compiles the dependencies (a few minutes on two
# cores) and lists the packages as it goes; later ones are quick and quiet.
build:
	@if [ ! -x $(BIN) ]; then echo "building $(BIN): the first build fetches and compiles the dependencies, a few minutes; the packages as they compile:"; fi
	$(GO) build $$([ -x $(BIN) ] || echo -v) -o $(BIN) ./cmd/journeyd

# deps installs what the run and the tests need (ClickHouse, Chromium, ZooKeeper, Node.js)
# when missing.
deps:
	deploy/install-deps.sh --test

clickhouse-start:
	deploy/clickhouse/start.sh

clickhouse-stop:
	deploy/clickhouse/stop.sh

# run: a local ClickHouse (var/clickhouse, port 19000), the schema, journeyd on 127.0.0.1:8080,
# a development admin token and link key (var/), and var/journeyd.env for the CLI.
run: build
	deploy/install-deps.sh
	deploy/clickhouse/start.sh
	deploy/run.sh $(BIN) $(CONFIG)

test: deps build
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...
	# the packages where goroutines meet (the report package: its shared reads), once more under the race detector
	$(GO) test -race $(TESTFLAGS) ./spool ./sql/store/writer ./sessionizer ./collector ./sql/analysis/report
	# the schema and every report on a current ClickHouse release, answers compared with 18.16
	deploy/compat-check.sh $(BIN)

# soak: SOAK (10m) of mixed load (pixels, beacons, /v1/batch) on one journeyd with two
# ClickHouse outages and two kill -9 restarts; prints accepted vs landed distinct event ids
# per endpoint (cmd/journeyd/soak_test.go). Not part of make test.
SOAK ?= 10m
soak: deps
	JOURNEYD_SOAK=$(SOAK) $(GO) test -count=1 -run '^TestSoak$$' -timeout 60m -v ./cmd/journeyd

# bench prints throughput figures as ratios against baselines measured in the same run.
bench: build deps
	deploy/bench.sh $(BIN)

# compat-check runs the schema and every report on a current ClickHouse release (chdb from
# the npm registry) beside the local 18.16, on the same generated journeys, and compares.
compat-check: build
	deploy/compat-check.sh $(BIN)

reference-check:
	$(GO) run ./cmd/journeyd attribution --paths $(REFERENCE)/pathdata.tsv --model all --check $(REFERENCE)/README.md

# snippet rebuilds the minified browser tracker from snippet/src.
snippet:
	$(GO) generate ./snippet

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
