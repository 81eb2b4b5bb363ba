# The two commands of the README: `make synth` and `make test`. Both build the environment first and are
# idempotent: the stamps below are only redone when pyproject.toml, constraints.txt or the npm lock change.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The pinned Node 22 and CDK CLI from package-lock.json come first, so jsii prints no end-of-life banner.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: env synth test lint typecheck unit bench docs wheel clean

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

bench: env
	$(PY) benchmarks/run.py

docs: synth
	$(PY) docs/generate.py cdk.out
	$(PY) -m pdoc batch_constructs -o docs/api

wheel: env
	$(PY) -m build --wheel --outdir dist .

clean:
	rm -rf cdk.out dist build docs/api .mypy_cache .ruff_cache
