# The two commands: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
# The console's browser tests drive Debian's Chromium; Playwright never downloads a browser.
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint typecheck bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Installed only when missing; where it can't be (not root, no apt-get) the console browser tests
# skip, saying so, except in CI (CI=true) where they fail.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the console browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
			|| echo "could not install chromium: the console browser tests will skip (fail in CI)"; \
	else \
		echo "$(CHROMIUM) is missing; installing Debian's chromium needs root and apt-get:" \
			"the console browser tests will skip (fail in CI)"; \
	fi

run: $(STAMP)
	$(BIN)/bourse run $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

# The exchange's life (recovery, crashes, stops, gateways, store outages) once more with the
# journal on NATS JetStream: each data directory on a stream of its own (tests/conftest.py).
# The whole suite passes that way too (README, "Naming it"); in CI these keep it within budget.
ON_JETSTREAM := $(addprefix tests/server/test_,exchange.py service.py crash.py shutdown.py \
	engine_link.py gateways.py store_outage.py big_amounts.py)

test: $(STAMP) $(CHROMIUM) lint typecheck
	$(BIN)/pytest -n 2 -q
	BOURSE_TEST_JOURNAL=nats $(BIN)/pytest -n 2 -q -m "not file_journal" $(ON_JETSTREAM)

bench: $(STAMP)
	$(BIN)/bourse bench engine --json
	$(BIN)/bourse bench journal --json

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
