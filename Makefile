# All set-up happens on demand: every target depends on the virtualenv stamp, which creates .venv,
# installs the package with its test extras and links helm, helm3 and kubectl, built from their Go
# modules (hack/build-binaries.sh, cached in .cache/bin), into .venv/bin.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup start render test test-fast test-kind test-binaries bench clean

$(STAMP): pyproject.toml constraints.txt hack/build-binaries.sh hack/tools/helm/go.mod hack/tools/helm3/go.mod hack/tools/kubernetes/go.mod
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip -c constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	bash hack/build-binaries.sh tools $(BIN)
	touch $(STAMP)

setup: $(STAMP)

## start: run the controller (local API emulator seeded with example/ unless KUBECONFIG is set)
start: $(STAMP)
	$(BIN)/python hack/start.py

## render: render the example calico Network into its Secret + ManagedResource
render: $(STAMP)
	$(BIN)/gardener-extension-networking render --network example/network-calico.yaml --cluster example/cluster.yaml

## test-binaries: build (once per version, cached in .cache/bin) etcd, kube-apiserver, gardener-resource-manager
test-binaries:
	bash hack/build-binaries.sh test

## test: the whole suite with helm 4 (real API server and resource manager included), then the chart tests with helm 3.17
test: $(STAMP) test-binaries
	$(BIN)/pytest -q -n auto -m "not e2e"
	HELM_BINARY=$(BIN)/helm3 $(BIN)/pytest -q -n auto tests/charts

## test-fast: everything that needs no real cluster (no Go builds)
test-fast: $(STAMP)
	$(BIN)/pytest -q -n auto -m "not real_apiserver and not resource_manager and not e2e"

## test-kind: the pytest-kind end-to-end test, on a machine with Docker and kind (not this one)
test-kind: $(STAMP)
	$(BIN)/pytest -q -m e2e

## bench: benchmarks that print figures (pipeline; the controller against the emulator and the real
## kube-apiserver beside bare helm, each figure next to its goal, BENCH_N Networks (default 1000); emulator writes)
bench: $(STAMP) test-binaries
	$(BIN)/python bench/run.py
	$(BIN)/python bench/reconcile.py
	$(BIN)/python bench/emulator_writes.py

clean:
	rm -rf $(VENV) .local
