# edgecore — see README.md. Every target works from a clean checkout.
SHELL := /bin/bash
export GOTOOLCHAIN := local

GO       ?= go
BIN      := $(CURDIR)/bin
DATA_DIR ?= $(CURDIR)/_output/run
ADDRESS  ?= 127.0.0.1:10550
# The test suite's timeout; CI allows far more, the suite should need far less.
TEST_TIMEOUT ?= 25m

.PHONY: soak all build kubectl kube-tools openapi-defs run test unit vet fuzz bench bench-smoke clean

all: build

build:
	$(GO) build -o $(BIN)/edgecore ./cmd/edgecore

# kubectl pinned to k8s.io/kubectl v0.37.2 (hack/tools is its own module, so
# kubectl's dependencies never enter edgecore's go.mod).
kubectl: $(BIN)/kubectl
$(BIN)/kubectl: hack/tools/go.mod hack/tools/go.sum hack/tools/kubectl/main.go
	cd hack/tools && $(GO) build -ldflags "$(KUBECTL_LDFLAGS)" -o $(BIN)/kubectl ./kubectl

# A real kube-apiserver v1.37.2 and etcd v3.7.0 (module hack/tools/kube), for
# the uplink tests and make bench's side-by-side baseline. The cold build takes
# ~20 minutes on 2 cores, seconds once Go's build cache holds it: build once
# into bin/ and reuse it in every test of the run.
# Regenerates the built-in OpenAPI definitions lwserver embeds (kube-apiserver
# v1.37.2's, from k8s.io/kubernetes/pkg/generated/openapi in hack/tools/kube).
# They are committed: run this only when the pinned Kubernetes version moves.
openapi-defs:
	cd hack/tools/kube && $(GO) run ./openapi-defs $(CURDIR)/edge/pkg/lwserver/openapi/builtin

KUBE_TOOLS := $(BIN)/kube-apiserver $(BIN)/etcd
kube-tools: $(KUBE_TOOLS)
$(BIN)/kube-apiserver: hack/tools/kube/go.mod hack/tools/kube/go.sum hack/tools/kube/kube-apiserver/main.go
	cd hack/tools/kube && $(GO) build -ldflags "$(KUBE_LDFLAGS)" -o $(BIN)/kube-apiserver ./kube-apiserver
$(BIN)/etcd: hack/tools/kube/go.mod hack/tools/kube/go.sum hack/tools/kube/etcd/main.go
	cd hack/tools/kube && $(GO) build -o $(BIN)/etcd ./etcd

KUBE_LDFLAGS := -X k8s.io/component-base/version.gitVersion=v1.37.2 \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 \
	-X k8s.io/client-go/pkg/version.gitVersion=v1.37.2

KUBECTL_LDFLAGS := -X k8s.io/component-base/version.gitVersion=v1.37.2 \
	-X k8s.io/client-go/pkg/version.gitVersion=v1.37.2

# Build edgecore, start it with embedded defaults, load the demo data, and keep
# it in the foreground (Ctrl-C stops it).
run: build kubectl
	DATA_DIR=$(DATA_DIR) ADDRESS=$(ADDRESS) BIN=$(BIN) hack/local-up.sh

vet:
	$(GO) vet ./...
	$(GO) run ./hack/funclen ./cmd ./edge
	@out=$$(gofmt -l cmd edge hack internal tests 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v /tests/)

# Everything CI runs. -count=1: tests/integration exec the binary it builds, a
# dependency go test's cache cannot see, so cached results could be stale.
# The uplink's tests (and hack/kubeapiserver's) start the real kube-apiserver
# and etcd from bin/.
KUBE_ENV := KUBE_APISERVER_BIN=$(BIN)/kube-apiserver ETCD_BIN=$(BIN)/etcd

test: build kubectl kube-tools vet
	KUBECTL=$(BIN)/kubectl $(KUBE_ENV) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./edge/pkg/lwserver/watchhub/... ./edge/pkg/metamanager/...
	$(MAKE) bench-smoke

# The long soak of docs/reliability.md: 1,000,000 updates to 1,000 objects
# through the binary (about 10 minutes); the database, WAL and resident
# memory must stay under their bounds. make test runs it with 20,000.
SOAK_UPDATES ?= 1000000
soak:
	EDGECORE_SOAK_UPDATES=$(SOAK_UPDATES) $(GO) test -count=1 -timeout 30m -run 'TestReliabilitySoak$$' -v ./tests/integration/

# Short fuzz runs of every parser (FUZZTIME per target).
FUZZTIME ?= 20s
fuzz:
	hack/fuzz.sh $(FUZZTIME)

# End-to-end benchmark through the real binary beside a real kube-apiserver +
# etcd (bin/, make kube-tools); writes docs/benchmarks.md (which lists the
# targets). BENCH_FLAGS=--no-kube skips the kube-apiserver side. A full run
# takes ~15-25 minutes on 2 cores, most of it kube-apiserver's.
bench: build kube-tools
	$(GO) run ./hack/bench $(BENCH_FLAGS)

# A tiny run of the same harness so it cannot rot (no kube-apiserver: CI
# time); numbers are not asserted.
bench-smoke: build
	$(GO) run ./hack/bench --smoke

clean:
	rm -rf $(BIN) _output
