# Every target sets up what it needs itself: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Chinese glyphs for PDFs and charts (STACK.md): Debian's WenQuanYi Micro Hei.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: test demo run bench chaos lint setup fonts infra clean

# RabbitMQ (with its management plugin) and PostgreSQL: started when not answering, installed
# from Debian's packages when missing. Under Docker, compose runs them instead.
INFRA := deploy/local/ensure-infra.sh

$(CJK_FONT):
	(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei

# The tests read the PDFs back (text, embedded fonts) with poppler's pdftotext and pdffonts.
PDFTOTEXT := /usr/bin/pdftotext

$(PDFTOTEXT):
	(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils

# The browser tests drive Debian's chromium (playwright cannot download its own here); the
# sign-in sheet's barcodes are read back with zbar.
CHROMIUM := /usr/bin/chromium
ZBARIMG := /usr/bin/zbarimg

$(CHROMIUM):
	(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(ZBARIMG):
	(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zbar-tools

# The spreadsheet tests open the CSV and XLSX files in LibreOffice (headless), as people do.
SOFFICE := /usr/bin/soffice

$(SOFFICE):
	(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc

# The metrics tests start Debian's Prometheus and check deploy/prometheus with its promtool.
PROMETHEUS := /usr/bin/prometheus

$(PROMETHEUS):
	(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus

fonts: $(CJK_FONT)

infra:
	bash $(INFRA) rabbitmq postgres

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "setuptools<81" wheel
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP) $(CJK_FONT) $(PDFTOTEXT) $(CHROMIUM) $(ZBARIMG) $(SOFFICE) $(PROMETHEUS)
	bash $(INFRA) rabbitmq postgres
	$(BIN)/pytest -q -p no:cacheprovider --durations=15

demo: $(STAMP) $(CJK_FONT)
	bash $(INFRA) rabbitmq
	$(BIN)/peixun demo

run: $(STAMP) $(CJK_FONT)
	bash $(INFRA) rabbitmq
	$(BIN)/peixun run

bench: $(STAMP) $(CJK_FONT)
	bash $(INFRA) rabbitmq postgres
	$(BIN)/peixun bench

# The fault runs at full size (docs/RELIABILITY.md); `make test` keeps a short run of each.
chaos: $(STAMP)
	bash $(INFRA) rabbitmq postgres
	$(BIN)/python -m chaos.run

# ruff, then the boundaries of DESIGN §6 (import-linter, contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check services demo tests bench chaos
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) var out
