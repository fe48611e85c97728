# Fashion-MNIST CNN report. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := dataset-fashion-mnist chromium poppler-utils libjs-mathjax fonts-dejavu-core
KERNEL := fashion-cnn
PROFILE ?= full
STUDY ?= R0
REPRODUCE ?=
JOBS ?= 2
WORKERS ?= 0
SEEDS ?=

.DEFAULT_GOAL := help
.PHONY: help setup setup-browse system test lint format test-fast bench report report-all bundle plan train lab tune strip mlflow dashboard

help: ## list every target with one line each
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: system $(STAMP) ## create .venv (Python 3.11), install the package and pins, register the kernel (idempotent)

system: ## install the Debian packages the project needs (as root; otherwise print the command)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "missing Debian packages; run: sudo apt-get install -y $$missing" >&2; exit 1; \
	fi

# torch's CUDA build makes the venv ~6.2 GB; pip needs room to unpack it. Check before
# starting so a full disk fails in one line, not halfway through an install.
VENV_GB ?= 8
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "no python3 found: install Python 3.11" >&2; exit 1; }
	@free_gb=$$(df -Pk . | awk 'NR==2 {print int($$4 / 1048576)}'); \
	if ! ls -d $(VENV)/lib/python*/site-packages/torch >/dev/null 2>&1 && [ "$$free_gb" -lt $(VENV_GB) ]; then \
		echo "setup needs ~$(VENV_GB) GB free for .venv (torch's CUDA build), $$(pwd) has $$free_gb GB: free some disk (old clones, ~/.cache/pip) and run make setup again" >&2; exit 1; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (fashion-cnn)" >/dev/null
	@touch $(STAMP)

# The optional extra `browse` (pyproject.toml): make mlflow and make dashboard need it, make test tests it
BROWSE_STAMP := $(VENV)/.installed-browse
setup-browse: setup $(BROWSE_STAMP) ## install the optional extra `browse` (MLflow, optuna-dashboard) for make mlflow and make dashboard

$(BROWSE_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[browse]'
	@touch $(BROWSE_STAMP)

test: setup setup-browse lint ## run the lint and the whole test suite (real data, short real trainings, every notebook in the quick profile, MLflow and optuna-dashboard)
	$(PY) -m pytest -n $(JOBS) --dist loadgroup

lint: setup ## ruff: the lint rules and the formatting (line length 120, pyproject.toml); `make format` applies them
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-fast: setup ## the unit tests only (no notebook runs)
	$(PY) -m pytest -m "not slow" -n $(JOBS)

strip: setup ## strip outputs from every notebook (run before committing)
	$(VENV)/bin/nbstripout notebooks/*.ipynb

# The report's options (`OPTIONS` in src/fashion_cnn/setup.py, their one home) as NAME=value on make's command
# line: SEEDS=5 → --seeds 5, MAX_SEEDS=6 → --max-seeds 6. Their names are read from that file, so a new option
# needs no edit here; `$(call options,STUDY)` leaves out the ones a command takes otherwise.
OPTION_VARS = $(shell sed -n 's/^    "\([a-z_]*\)": Option.*/\1/p' src/fashion_cnn/setup.py 2>/dev/null | tr a-z A-Z)
options = $(foreach v,$(filter-out $(1),$(OPTION_VARS)),$(if $($(v)),--$(shell echo $(v) | tr A-Z_ a-z-) $($(v))))
# ADDRESS=host:port (a Ray cluster's head, `ray start --head`): train there instead of on a local Ray
RAY_ARGS = $(if $(ADDRESS),--address $(ADDRESS))

report: setup ## run every notebook headless (PROFILE=full|quick, STUDY=R0|path.toml, MODELS=my_models.py, PRECISION=fp32|bf16, REPRODUCE="R0 R4"|all, STORED_ONLY=1, SEEDS=n|auto, MARGIN=0.5, MAX_SEEDS=10, ADDRESS=host:port, YES=1: go on past a day's estimate) → reports/report.html + report.pdf
	$(PY) -m fashion_cnn report $(call options) $(if $(REPRODUCE),--reproduce "$(REPRODUCE)") $(if $(STORED_ONLY),--stored-only) $(if $(YES),--yes) $(RAY_ARGS)

bundle: setup ## the last report, its executed notebooks, every figure's and table's data and its runs' configs and provenance, in one zip → reports/report-bundle.zip
	$(PY) -m fashion_cnn bundle

report-all: setup ## render every named study (each in its own report under reports/studies/)
	$(PY) -m fashion_cnn report --all-studies $(call options,STUDY) $(if $(REPRODUCE),--reproduce "$(REPRODUCE)") $(if $(STORED_ONLY),--stored-only) $(RAY_ARGS)

plan: setup ## a study's runs per part, how many the run store holds, estimated CPU hours left (STUDY="R3 R4"|all, PROFILE, PRECISION, SEEDS=n|auto, ONLY="cnn_4*")
	$(PY) -m fashion_cnn plan $(STUDY) $(call options,STUDY) $(if $(ONLY),--only $(ONLY))

train: setup ## train a study's runs on Ray ahead of the report; stop any time, run again to go on (STUDY, PROFILE, PRECISION, SEEDS=n|auto, ONLY, ADDRESS=host:port)
	$(PY) -m fashion_cnn train $(STUDY) $(call options,STUDY) $(if $(ONLY),--only $(ONLY)) $(RAY_ARGS)

lab: setup ## open JupyterLab on the notebooks with the project kernel
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: setup ## benchmark the engine against a naive DataLoader loop, and a study on Ray (ADDRESS=host:port: a cluster) → reports/bench/ (~5 min on 2 idle cores)
	$(PY) -m fashion_cnn bench $(RAY_ARGS)

tune: setup ## Optuna search, trials on Ray (MODELS=my_models.py to tune one of yours, BATCH=2 trials proposed and trained together, WORKERS=0: at most that many at once; STORAGE=url; SEED=0; ADDRESS=host:port)
	$(PY) -m fashion_cnn tune --workers $(WORKERS) $(call options,STUDY SEEDS MARGIN MAX_SEEDS) $(if $(STORAGE),--storage $(STORAGE)) $(if $(SEED),--seed $(SEED)) $(if $(BATCH),--batch $(BATCH)) $(RAY_ARGS)

mlflow: setup-browse ## log every stored run into MLflow once (reports/mlflow/, or MLFLOW_TRACKING_URI), then its UI on localhost (PORT=5000, STORAGE=url: the search's, NO_UI=1)
	$(PY) -m fashion_cnn mlflow $(if $(PORT),--port $(PORT)) $(if $(STORAGE),--storage $(STORAGE)) $(if $(NO_UI),--no-ui)

dashboard: setup-browse ## optuna-dashboard on the search's storage on localhost (PORT=8080, STORAGE=url; default reports/tune.sqlite3)
	$(PY) -m fashion_cnn dashboard $(if $(PORT),--port $(PORT)) $(if $(STORAGE),--storage $(STORAGE))
