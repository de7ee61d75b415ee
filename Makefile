# Customer 360: every entry point a user or CI needs. Each target bootstraps what it uses,
# idempotently: a second run reuses the virtualenv, the tools and the running embedded stack.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON       ?= python3
UV_VERSION   := 0.13.8
HELM_VERSION := v3.22.0
TOOLS        := $(CURDIR)/.tools
UV           := $(TOOLS)/bin/uv
HELM         := $(TOOLS)/bin/helm
VENV         := $(CURDIR)/.venv
RUN          := $(UV) run --frozen --no-sync
export PATH  := $(VENV)/bin:$(TOOLS)/bin:$(PATH)

# Default test tier: everything except the tiers that need Docker or a long time. The browser tier
# is in it: `make test` installs Debian's chromium when it can, and those tests skip without it.
PYTEST_MARKERS ?= not slow and not container and not cluster

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---- bootstrap ---------------------------------------------------------------------------------
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: this machine's environment sets PYTHONDONTWRITEBYTECODE, so without .pyc files
# written at install every dbt/Airflow process compiles its imports again (dbt: 6 s -> 3 s a start).
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode
	touch $@

$(HELM):
	@command -v go >/dev/null || { echo "helm is built from its Go module: install Go first"; exit 1; }
	GOBIN=$(TOOLS)/bin go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: venv tools
venv: $(VENV)/.synced ## Create/refresh the virtualenv from uv.lock
tools: venv $(HELM) ## venv + helm

# ---- the two README commands -------------------------------------------------------------------
.PHONY: demo test
demo: venv ## Run the whole pipeline on the embedded stack and print what it built
	$(RUN) python -m harness.demo

test: tools browser-deps-if-possible ## Run the default test suite (real embedded PostgreSQL + S3, dbt, Airflow, helm, Chromium)
	$(RUN) pytest -m "$(PYTEST_MARKERS)"

.PHONY: test-slow
test-slow: tools ## The slow tier: memory checks at scale, the `make ui` lifecycle
	$(RUN) pytest -m slow

# ---- embedded Airflow UI and dbt docs (docs/operations.md) -------------------------------------
.PHONY: ui ui-stop ui-status airflow docs-serve
ui: venv ## Start Airflow's api-server, scheduler, dag-processor, triggerer on loopback (admin password under .state/)
	$(RUN) python -m harness.embedded_airflow up
ui-stop: venv ## Stop the Airflow services started by `make ui`
	$(RUN) python -m harness.embedded_airflow down
ui-status: venv ## Show whether the Airflow services run
	$(RUN) python -m harness.embedded_airflow status
airflow: venv ## Run the Airflow CLI with the embedded config: make airflow ARGS="dags list"
	$(RUN) python -m harness.embedded_airflow airflow $(ARGS)
docs-serve: venv ## Serve the dbt docs site (written by the DAG's last task) on loopback
	$(RUN) python -m harness.docs_serve

# ---- embedded stack ----------------------------------------------------------------------------
.PHONY: up down status
up: venv ## Start the embedded PostgreSQL and S3 servers
	$(RUN) c360-stack up
down: venv ## Stop them
	$(RUN) c360-stack down
status: venv ## Show whether they run
	$(RUN) c360-stack status

# ---- the local Kubernetes cluster (docs/kubernetes.md) -----------------------------------------
# Real upstream components, built from their Go modules once per machine into ~/.cache/customer360,
# run as root in a network namespace of their own; kubeconfig in .state/cluster/kubeconfig.
CLUSTER      := $(RUN) c360-cluster
KUBECONFIG_LOCAL := $(CURDIR)/.state/cluster/kubeconfig
CLUSTER_IMAGES ?= customer360/pipeline:$(IMAGE_TAG) customer360/dbt:$(IMAGE_TAG) customer360/airflow:$(IMAGE_TAG) \
                  $(shell $(RUN) python -m harness.images.standins --print-references 2>/dev/null)
.PHONY: cluster-up cluster-down cluster-status cluster-build cluster-load-images cluster-deploy kubectl test-cluster-smoke test-cluster
cluster-up: venv ## Start the local single-node Kubernetes (builds its binaries on a new machine; reuses a running one)
	$(CLUSTER) up
cluster-down: venv ## Stop it and remove every trace (processes, mounts, namespaces, cgroups, containerd state)
	$(CLUSTER) down
cluster-status: venv ## Each component's process, the node's readiness, a dead component's log
	$(CLUSTER) status
cluster-build: venv ## Build the cluster's binaries into the machine cache and link .tools/bin/kubectl
	$(CLUSTER) build
cluster-load-images: venv ## Import the locally built images into the cluster (as `kind load docker-image`)
	$(CLUSTER) load-images $(CLUSTER_IMAGES)
cluster-deploy: tools ## Build, load and helm-install the platform as `tilt up` would (the Tiltfile's images and values)
	$(CLUSTER) deploy
kubectl: venv ## kubectl against the local cluster: make kubectl ARGS="get pods -A"
	@$(CLUSTER) kubectl -- $(ARGS)
test-cluster-smoke: venv ## The cluster's own smoke tests (make cluster-up first; ~2 min)
	$(RUN) pytest -m cluster tests/cluster/test_cluster_*.py
test-cluster: tools browser-deps ## The cluster tier: smoke tests, then the platform on the cluster end to end (~15 min warm)
	$(RUN) pytest -m cluster tests/cluster

# ---- container images (docs/images.md) ---------------------------------------------------------
IMAGE_TAG    ?= 0.1.0
# Empty = each Dockerfile's pinned public python base; `images-offline` sets the local one.
BASE_IMAGE   ?=
OFFLINE_BASE := customer360/base:bookworm-python3.11
.PHONY: docker-engine base-image images images-offline standin-images image-sizes test-containers
docker-engine: ## Install (apt docker.io) and start dockerd if no engine answers
	scripts/start-dockerd.sh
base-image: ## Make the offline base image (debootstrap bookworm + python3.11, docker import)
	docker image inspect $(OFFLINE_BASE) >/dev/null 2>&1 || scripts/make-base-image.sh $(OFFLINE_BASE)
images: ## Build customer360/{pipeline,dbt,airflow}:$(IMAGE_TAG) (BASE_IMAGE=... for a local base)
	IMAGE_TAG=$(IMAGE_TAG) BASE_IMAGE=$(BASE_IMAGE) scripts/build-images.sh
images-offline: base-image ## Build the images and the stand-ins FROM the offline base (no registry needed)
	$(MAKE) images BASE_IMAGE=$(OFFLINE_BASE)
	$(MAKE) standin-images
standin-images: venv base-image ## Build the offline stand-ins for postgres, minio and mc (docs/images.md#stand-ins)
	$(RUN) python -m harness.images.standins --base-image $(OFFLINE_BASE)
image-sizes: ## Print the image sizes and write them into docs/images.md
	IMAGE_TAG=$(IMAGE_TAG) BASE_IMAGE=$(OFFLINE_BASE) scripts/image-sizes.sh --update
test-containers: venv ## Container smoke tests: each step's argv in its image (needs built images)
	@docker info >/dev/null 2>&1 || { echo "no Docker engine: run 'make docker-engine'"; exit 1; }
	$(RUN) pytest -m container tests/containers

# ---- docs: pictures and the browser tier (README.md) --------------------------------------------
# Debian's Chromium, driven by Playwright from the venv (`playwright install` needs an unreachable CDN).
CHROMIUM_PATH ?= /usr/bin/chromium
SUDO         := $(if $(filter 0,$(shell id -u)),,sudo)
.PHONY: browser-deps browser-deps-if-possible screenshots screenshots-cluster diagrams test-browser
browser-deps: ## Install Debian's chromium if missing (apt; for screenshots and browser tests)
	@test -x $(CHROMIUM_PATH) || $(SUDO) apt-get install -y -qq chromium \
	  || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
browser-deps-if-possible:
	@$(MAKE) --no-print-directory browser-deps \
	  || echo "note: could not install chromium (apt); the browser tests will be skipped"
screenshots: venv browser-deps ## Re-take assets/dbt_lineage.png from dbt/target (runs `make demo` if missing)
	@test -f dbt/target/index.html || $(MAKE) demo
	$(RUN) python scripts/screenshot_lineage.py
screenshots-cluster: venv browser-deps ## Re-take assets/airflow_cluster_run.png: the newest green run's graph on the local cluster
	$(RUN) python scripts/screenshot_cluster_run.py
diagrams: ## Render assets/architecture.png from assets/architecture.dot (Graphviz)
	scripts/render_architecture.sh
test-browser: tools browser-deps ## Browser tier: dbt docs site + Airflow UI in headless Chromium (~3 min)
	$(RUN) pytest -m browser tests/browser

# ---- benchmarks (print figures; own embedded stack on free ports) -------------------------------
.PHONY: bench bench-load
bench: venv ## All benchmarks -> docs/benchmarks.md + plots + JSON (~30-45 min); BENCH_ARGS="--quick" to try
	$(RUN) python bench/bench_pipeline.py $(BENCH_ARGS)
bench-load: venv ## Loader vs psql \copy and pgloader on a 1M-row orders object: rows/s, ratios, peak RSS
	$(RUN) python bench/bench_load.py $(BENCH_LOAD_ARGS)

# ---- quality -----------------------------------------------------------------------------------
.PHONY: lint fmt
lint: venv ## ruff check + format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .
fmt: venv ## Apply ruff fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .
