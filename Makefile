# kubeforge.cluster task runner. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
COLL_LINK := $(VENV)/collections/ansible_collections/kubeforge/cluster
CACHE := $(CURDIR)/.cache
SANITY_ROOT ?= $(CACHE)/sanity
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Hermetic: every target reads and writes state only in this clone, never what an earlier run left in ~/.ansible or
# ~/.cache. The collection resolves by FQCN from the working tree (the $(COLL_LINK) symlink) and from the venv's
# `ansible` package; Ansible's, ansible-lint's and Molecule's state (tmp, galaxy cache, Molecule's ephemeral
# directories), pip's and the API modules' discovery caches live under .cache/ (`make clean` removes them).
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(VENV)/collections
export ANSIBLE_ROLES_PATH := $(CURDIR)/roles
export ANSIBLE_HOME := $(CACHE)/ansible
export XDG_CACHE_HOME := $(CACHE)/xdg
export ANSIBLE_ASYNC_DIR := $(CACHE)/ansible/async
export KUBECACHEDIR := $(CACHE)/kube
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup host-setup lint sanity unit integration molecule test lab lab-down build clean

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
	scripts/galaxy-import.sh $(CACHE)/build

unit: setup ## Unit tests (pytest)
	pytest -n 2 tests/unit

integration: setup ## API test server and module integration tests (pytest)
	pytest -n 2 tests/integration

molecule: setup host-setup ## Molecule scenarios on systemd test hosts (Docker)
	scripts/molecule-all.sh

test: lint sanity unit integration molecule ## Everything CI runs

lab: setup host-setup ## The main job: site.yml on a local 3-node lab (containers lab-kube-master, lab-kubenode-1, ...)
	scripts/lab.sh up

lab-down: ## Remove the lab's containers and network (the tests never touch them)
	scripts/lab.sh down

build: setup ## Build the collection tarball
	ansible-galaxy collection build --force --output-path $(CACHE)/build

clean: ## Remove the venv and caches (images and the Docker engine are left alone)
	rm -rf $(VENV) .cache .ansible .pytest_cache .ruff_cache
