# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser run test test-fast lint clean

$(STAMP): requirements.txt requirements-dev.txt setup.cfg
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(BIN)/python -m pip install -r requirements-dev.txt
	$(BIN)/python -m pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

# Headless Chromium for tests/test_report_browser.py (Debian's package; needs root, as in CI).
# Where it cannot be installed the browser test says so and is skipped; nothing else needs it.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
	    >/dev/null 2>&1 || echo "note: could not install chromium; the real-browser test will be skipped"; }

run: $(STAMP)
	$(BIN)/python runner.py config.yaml

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --timeout=900

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
