# The two commands of the README: `make synth` and `make test`. Both build the environment first and are
# idempotent: the stamps below are only redone when pyproject.toml, constraints.txt or the npm lock change.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The pinned Node 22 and CDK CLI from package-lock.json come first, so jsii prints no end-of-life banner.
# Python may cache bytecode here even where the machine turns it off (PYTHONDONTWRITEBYTECODE=1): without it every
# pytest worker recompiles the library and re-rewrites the asserts of every test module at each run (about 6 s each).
unexport PYTHONDONTWRITEBYTECODE
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
PY_STAMP := $(VENV)/.installed
BUILD_VENV := .venv-build
BUILD_STAMP := $(BUILD_VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: env synth test lint typecheck unit properties bench docs wheel wheel-check integ integ-snapshots clean

env: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: env
	rm -rf cdk.out
	cdk synth --quiet --no-notices --no-version-reporting >/dev/null
	@ls cdk.out/*.template.json | sed 's|^|synthesized |'

lint: env
	ruff check .
	ruff format --check .

typecheck: env
	mypy --strict batch_constructs

unit: env
	pytest

test: lint typecheck unit

# The property tests (Hypothesis) only, PROPERTY_SCALE times as many examples each as in `make test` (default 20,
# about 20 times their share of the suite): a deliberate search for rare hostile inputs, e.g. nightly.
PROPERTY_SCALE ?= 20
properties: env
	PROPERTY_SCALE=$(PROPERTY_SCALE) pytest -m hypothesis

# BENCH_ARGS: e.g. --grid (the full 3x3 scale grid), -n 9, --skip-tests; see benchmarks/run.py --help.
bench: env
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# The library's public modules, for the API reference (each page shows what the module's __all__ names).
API_MODULES := batch_constructs $(subst /,.,$(basename $(filter-out batch_constructs/_%,$(wildcard batch_constructs/*.py))))
# Public subpackages (pdoc adds their public submodules itself).
API_MODULES += $(subst /,.,$(patsubst %/__init__.py,%,$(filter-out batch_constructs/_%,$(wildcard batch_constructs/*/__init__.py))))

# Architecture diagrams and the compliance ledger from the synthesized templates, then the API reference (pdoc must
# run the jsii kernel's Node process while importing aws_cdk: PDOC_ALLOW_EXEC). Fails on any pdoc warning.
docs: synth
	$(PY) docs/generate.py cdk.out
	rm -rf docs/api
	@out=$$(PDOC_ALLOW_EXEC=1 $(PY) -m pdoc --docformat google $(API_MODULES) -o docs/api 2>&1); status=$$?; \
	  if [ -n "$$out" ]; then echo "$$out"; fi; \
	  if [ $$status -ne 0 ] || grep -q '^Warn' <<<"$$out"; then echo "pdoc failed or warned" >&2; exit 1; fi
	@echo "docs/api/index.html: API reference of $(words $(API_MODULES)) modules"

# The build tools alone, in their own venv: build and setuptools (and their dependencies packaging and
# pyproject_hooks), pinned by constraints.txt. No dev toolchain, no Node; --no-isolation: nothing is downloaded per
# build (an isolated build would fetch setuptools from the index every time).
$(BUILD_STAMP): constraints.txt
	test -x $(BUILD_VENV)/bin/python || python3 -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt build setuptools
	touch $@

wheel: $(BUILD_STAMP)
	rm -rf dist
	$(BUILD_VENV)/bin/python -m build --wheel --no-isolation --outdir dist .

# The wheel installed from the package index (with its runtime dependencies only) into a clean venv, imported and
# used there, as a user's pip install would: network, about a minute (pip alone 35-45 s). `make test` runs the
# offline variant.
wheel-check: wheel env
	BATCH_CONSTRUCTS_INSTALL_FROM_INDEX=1 BATCH_CONSTRUCTS_WHEEL="$$(ls dist/*.whl)" $(PY) -m pytest tests/test_packaging.py

# Integration tests against the AWS account in the environment (credentials, region, `cdk bootstrap`, Docker; see the
# README): each example app deployed, its job started and checked, everything destroyed. Fails within seconds without
# credentials; prints the estimated cost before deploying. INTEG_TESTS: a subset, e.g. integ_movies_importer;
# INTEG_GPU_JOB=1: also one single-GPU job (about 0.5 USD more); INTEG_ARGS=--yes: no question on a terminal.
integ: env
	BATCH_CONSTRUCTS_INTEG_GPU_JOB=$(INTEG_GPU_JOB) $(PY) -m integ.run $(INTEG_ARGS) $(INTEG_TESTS)

# Rewrite the integration tests' snapshots (integ/integ_*.py.snapshot/) after a deliberate change; `make test` checks
# them offline.
integ-snapshots: env
	$(PY) -m integ.snapshots

clean:
	rm -rf cdk.out cdk.integ.out dist build docs/api .mypy_cache .ruff_cache
