# kubeforge.cluster task runner. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
COLL_LINK := $(VENV)/collections/ansible_collections/kubeforge/cluster
SANITY_ROOT ?= $(CURDIR)/.cache/sanity
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(VENV)/collections
export ANSIBLE_ROLES_PATH := $(CURDIR)/roles
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup host-setup lint sanity unit integration molecule test lab build clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(COLL_LINK) ## Python venv (3.12) with pinned deps; collection resolvable by FQCN

$(VENV)/.installed: requirements/controller.txt requirements/test.txt
	@test -x $(VENV)/bin/python || "$$(scripts/find-python)" -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements/test.txt
	touch $@

$(COLL_LINK):
	mkdir -p $(dir $(COLL_LINK))
	ln -sfn $(CURDIR) $(COLL_LINK)

host-setup: ## Docker engine, debootstrap and the systemd base images for Molecule (root)
	scripts/host-setup.sh

lint: setup ## yamllint, ansible-lint (production profile), changelog fragments, ruff
	yamllint -s .
	ansible-lint --offline
	antsibull-changelog lint
	ruff check .
	ruff format --check .

sanity: setup ## ansible-test sanity from a temporary ansible_collections tree, and Galaxy's import checks
	scripts/sanity.sh $(SANITY_ROOT)
	scripts/galaxy-import.sh .cache/build

unit: setup ## Unit tests (pytest)
	pytest -n 2 tests/unit

integration: setup ## API test server and module integration tests (pytest)
	pytest -n 2 tests/integration

molecule: setup host-setup ## Molecule scenarios on systemd test hosts (Docker)
	scripts/molecule-all.sh

test: lint sanity unit integration molecule ## Everything CI runs

lab: setup host-setup ## The main job: site.yml against a local 3-node lab (kube-master, kubenode-1, kubenode-2)
	scripts/lab.sh up

build: setup ## Build the collection tarball
	ansible-galaxy collection build --force --output-path .cache/build

clean: ## Remove the venv and caches (images and the Docker engine are left alone)
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
