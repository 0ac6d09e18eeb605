# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
# llama.cpp's OpenMP threads sleep instead of spinning when they wait: on 2 busy cores spinning costs 3-10x.
export OMP_WAIT_POLICY := PASSIVE

.PHONY: install run index test lint typecheck unit bench-index bench-retrieve bench-answer browser clean

install: $(STAMP)
	$(BIN)/python -m assistant.model_setup

# torch first: 2.13.0 is a CPU wheel on local disk; anything that pulls torch
# before it would fetch a multi-GB CUDA build.
#
# llama-cpp-python is built from source for this CPU (-DGGML_NATIVE=ON: AVX-512
# where there is one; prompt evaluation measured 1.6x faster than the portable
# AVX2 build on this machine). pip caches built wheels by download URL only, not
# by build flags, so the sdist is fetched into a folder named after this CPU's
# feature flags: a shared pip cache never hands a wheel to a CPU it was not
# built for. LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF" gives a portable build instead.
LLAMA_CPP := llama-cpp-python==0.3.36
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=ON
CPU_TAG := $(shell (grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || uname -m) | cksum | cut -d' ' -f1)
LLAMA_SDIST := .build/llama-cpp-$(CPU_TAG)-$(shell echo '$(LLAMA_CMAKE_ARGS)' | cksum | cut -d' ' -f1)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip download --quiet --no-deps --no-binary :all: -d $(LLAMA_SDIST) '$(LLAMA_CPP)'
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet $(LLAMA_SDIST)/llama_cpp_python-*.tar.gz
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

index: install
	$(BIN)/notes-assistant index

# Indexes the notes (incremental) and starts the web chat on 127.0.0.1:7860.
run: install
	$(BIN)/python app.py

browser:
	scripts/install-browser.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: install browser
	$(BIN)/pytest -q

test: lint unit

bench-index: install
	$(BIN)/python -m tests.bench.bench_index

bench-retrieve: install
	$(BIN)/python -m tests.bench.bench_retrieve

bench-answer: install
	$(BIN)/python -m tests.bench.bench_answer

clean:
	rm -rf .notes-index .pytest_cache .mypy_cache .ruff_cache
