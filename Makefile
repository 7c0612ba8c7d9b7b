# vland: the two commands a newcomer needs are `make demo` and `make test`.
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
BIN := bin/vland

.PHONY: all deps build test unit fuzz bench demo clean lab-down

all: build

deps:
	./scripts/deps.sh

build:
	$(GO) build -o $(BIN) ./cmd/vland

# Everything CI runs: dependencies, vet, every test (unit, API on real etcd,
# real OpenStack clients, end-to-end on real OVS in namespaces) and a short
# fuzzing run of the API's request decoding.
test: deps build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz FUZZTIME=15s

unit:
	$(GO) test -short ./...

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode' -fuzztime $(FUZZTIME) ./internal/neutron

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./internal/neutron

# Sets up the machine, builds vland, brings up a 2-host lab and runs seed
# 000: two projects with the same 10.1.0.0/24, ping matrix printed.
demo: deps build
	./scripts/demo.sh

lab-down:
	$(BIN) lab down

clean:
	rm -rf bin
