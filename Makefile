# tollgate — build, test and benchmark entry points.
# `make test` is the test command that README.md and .ci/run both use.

GO      ?= go
BIN     ?= bin/tollgate
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/tollgate-dev/tollgate/internal/buildinfo.version=$(VERSION)

.PHONY: all build image demo test test-deps test-unit test-e2e e2e-tools cosign-tools bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# image builds tollgate's container image (Dockerfile, FROM scratch) with
# buildah into a `docker save` tar: $(IMAGE_TAR), tagged $(IMAGE).
IMAGE     ?= localhost/tollgate:$(VERSION)
IMAGE_TAR ?= bin/tollgate-image.tar
image: build
	VERSION=$(VERSION) REVISION="$$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
		build/image.sh $(BIN) $(IMAGE_TAR) $(IMAGE)

# demo runs the whole chain offline on the examples in the repository:
# lint the example Dockerfile, scan an example image (a docker save tar
# generated here) against an advisory DB built from the project's own
# fixture records (examples/vulndb), score the example Deployment.
DEMO := bin/demo
demo: build
	./$(BIN) dockerfile lint --no-fail examples/python-web/Dockerfile
	@mkdir -p $(DEMO)
	$(GO) run ./bench/imagegen -o $(DEMO)/python-web.tar -format docker-archive -size 1MB -layers 2 -packages 20 -host 0 >/dev/null
	./$(BIN) db import --cache-dir $(DEMO)/cache examples/vulndb
	./$(BIN) image --cache-dir $(DEMO)/cache --skip-db-update -i $(DEMO)/python-web.tar
	./$(BIN) kube scan examples/python-web/deployment.yaml

# test runs every test: unit and CLI script tests with the race detector,
# then the end-to-end tests (their own modules under test/).
test: test-deps test-unit test-e2e

# test-deps installs the Debian packages the tests need, when missing.
test-deps:
	scripts/test-deps.sh

test-unit: cosign-tools
	TOLLGATE_COSIGN_DIR="$$(test/tools/cosign/build.sh --print)" $(GO) test -race -timeout 20m ./...

# cosign-tools builds the real cosign CLIs (v2.6.5, v3.1.3) the signature
# tests sign with, from the Go module proxy, once per machine: cached by
# version under the user cache directory (5-15 minutes cold on 2 cores).
cosign-tools:
	test/tools/cosign/build.sh >/dev/null

# e2e-tools builds the control plane the admission end-to-end tests run
# (kube-apiserver, kube-controller-manager, kubectl v1.37.2, etcd 3.7.3)
# from the Go module proxy, once per machine: cached by version under the
# user cache directory. A cold build takes 10-30 minutes on 2 cores.
e2e-tools:
	test/e2e/tools/build.sh >/dev/null

# test-e2e runs the end-to-end suites (test/e2e, its own module) against the
# freshly built binary, the cached control plane and the cached cosign CLIs.
test-e2e: build e2e-tools cosign-tools
	cd test/e2e && TOLLGATE_BIN=$(CURDIR)/$(BIN) TOLLGATE_K8S_DIR="$$(tools/build.sh --print)" \
		TOLLGATE_COSIGN_DIR="$$(../tools/cosign/build.sh --print)" \
		$(GO) test -count=1 -timeout 10m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
