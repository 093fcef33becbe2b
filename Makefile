# Set-up is part of every target: a fresh clone needs only Python 3.11 and pip.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch first, pinned to the wheels this workplace (and CI) has on disk: torchvision (for timm)
# imports only beside torch 2.14.1. On another machine any torch >= 2.4 works: `pip install -e ".[dev]"`.
TORCH ?= torch==2.14.1 torchvision==0.29.1
# The official MediaPipe face landmarker; a checkout beside ../shared finds it there.
export RDFACE_FACE_LANDMARKER ?= $(abspath $(wildcard ../shared/models/face_landmarker.task))

.PHONY: install demo test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: install  ## simulate -> build -> load on the embedded default (CPU, about 2 minutes)
	$(BIN)/rdface demo

lint: install  ## ruff lint and format check (CI runs it before the tests)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install  ## the test suite (offline, 2 workers)
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -n 2 -q

bench: install  ## speed figures for benchmarks/README.md
	$(BIN)/python benchmarks/build_speed.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache .hypothesis *.egg-info
