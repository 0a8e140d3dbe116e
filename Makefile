# fleetkey build targets. `make test` is the test command named in the README and run by CI.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BENCHTIME ?= 1s

export CGO_ENABLED := 1

.PHONY: build test lint bench contracts check-contracts

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/fleetkey ./cmd/fleetkey

# The whole test suite, with the race detector. Tests that need PostgreSQL read
# FLEETKEY_TEST_POSTGRES and skip with a message when it is unset.
test:
	$(GO) test -race -count=1 -timeout 30m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy (run go mod tidy)"; exit 1; }

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# Rebuild contracts/artifacts and internal/chain/bindings from the Solidity sources (npm solc,
# pinned in contracts/package-lock.json; abigen from go-ethereum).
contracts:
	contracts/build.sh

# Fail if the committed artifacts or bindings differ from a fresh build (CI runs this).
check-contracts:
	contracts/check.sh
