# Every target sets up what it needs itself: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FONT_STAMP := var/.fonts

.PHONY: test demo run bench lint setup fonts clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "setuptools<81" wheel
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider

demo: $(STAMP)
	$(BIN)/peixun demo

run: $(STAMP)
	$(BIN)/peixun run

bench: $(STAMP)
	$(BIN)/peixun bench

lint: $(STAMP)
	$(BIN)/ruff check services demo tests bench

clean:
	rm -rf $(VENV) var out
