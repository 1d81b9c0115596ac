# ivpb: developer and CI entry points. `make test` is what CI runs (.ci/run).
# Everything runs as root on a Debian 12 machine; lab/ scripts install podman & co. when missing.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CONTAINERS_CONF := $(CURDIR)/lab/containers.conf
# Molecule scenarios: every molecule/*/molecule.yml except _shared, the lab smoke scenario first.
SCENARIOS := $(filter-out _shared,$(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
SCENARIOS := $(filter lab,$(SCENARIOS)) $(sort $(filter-out lab,$(SCENARIOS)))

.PHONY: venv image lab-up lab-down lab-status demo test-unit test-unit-clean test-lab molecule test lint bench ee

# The project's own Python (src/ and the collection's plugins, which ansible-playbook imports on
# the controller in every forked worker) is compiled to bytecode here, as pip does for a package
# it installs: where PYTHONDONTWRITEBYTECODE is set (this machine kind sets it), Python would
# otherwise compile every source file anew in every process, about 1.5 s of CPU per check run
# (benchmarks/README.md). Incremental: only what changed since is compiled again.
venv: $(VENV)/.installed
	@$(VENV)/bin/python -m compileall -q src collections/ansible_collections/ivpb/backupbeleid/plugins >/dev/null

$(VENV)/.installed: pyproject.toml
	@if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then \
	  echo "make venv: installing python3-venv (Debian package)"; \
	  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; } >/dev/null \
	    || { echo "make venv: cannot install python3-venv; run as root: apt-get install -y python3-venv" >&2; exit 1; }; \
	fi
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

image:
	lab/build-image

lab-up:
	lab/lab up

lab-down:
	lab/lab down

lab-status:
	lab/lab status

# The README's first command: venv, images, lab, audit before, enforce, audit after (reports/).
demo: venv image
	lab/demo

# Issue #8: ping vs audit vs enforce on N lab hosts (BENCH_HOSTS, default 10).
bench: venv image
	$(VENV)/bin/python benchmarks/bench.py --hosts $${BENCH_HOSTS:-10}

# The AWX execution environment's build context (offline; `ansible-builder build -c build/ee` makes
# the image, README.md "Running in AWX"). CI checks this step in tests/unit/test_execution_environment.py.
ee: venv
	$(VENV)/bin/ansible-builder create -f execution-environment.yml -c build/ee

# Both test trees: the controller's (tests/) and the collection's own (also run by `ansible-test units`).
COLLECTION_TESTS := collections/ansible_collections/ivpb/backupbeleid/tests/unit

test-unit: venv
	$(VENV)/bin/pytest -q -m "not lab" tests $(COLLECTION_TESTS)

# The same suite in a clean container of the lab's image: what this machine has installed
# cannot make it pass (issue #21). CI runs the unit tests this way.
test-unit-clean: image
	lab/unit-tests

test-lab: venv image
	$(VENV)/bin/pytest -q -m lab tests

molecule: venv image
	@for s in $(SCENARIOS); do \
	  echo "== molecule test -s $$s"; start=$$SECONDS; \
	  molecule test -s $$s || { echo "molecule scenario $$s FAILED (after $$((SECONDS - start))s)" >&2; exit 1; }; \
	  echo "== molecule scenario $$s passed in $$((SECONDS - start))s"; \
	done

# lint first: it takes seconds, and a lint rule that is not run drifts (issue #15).
test: venv lint image test-unit-clean molecule test-lab

# ruff (Python) and ansible-lint (production profile, offline: no Galaxy; also reads the
# collection's sanity ignore file and refuses ignores it does not permit).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ansible-lint
