# OneStop — two commands on a fresh machine:
#   make run    serve the API with seed data on the embedded database
#   make test   run the whole suite against the embedded database and a real Redis
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck schema check lock bench bench-gateway bench-bookings bench-cases clean redis-server chromium promtool e2e-deps

# Installs exactly the lock (every package pinned and hashed), then the checkout itself
# without resolving anything: the suite runs on the versions the lock names. The
# embedded database is an extra (`embedded`): `make run` and the suite need it, the
# production image (Dockerfile: requirements/prod.txt) does not have it.
$(STAMP): pyproject.toml requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e '.[dev,embedded]'
	touch $(STAMP)

# The lock files, from pyproject.toml (run after changing a dependency; commit the result):
#   requirements/prod.txt   the runtime dependencies: what the production image installs
#   requirements/dev.txt    plus the dev and embedded extras, at prod.txt's versions
#   requirements/build.txt  the build backend (pyproject's build-system), for the image
# Versions already locked are kept while they still fit; `make lock UPGRADE=--upgrade` moves
# every package to its newest allowed version.
LOCK = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
       --custom-compile-command 'make lock' $(UPGRADE)
BUILD_REQUIRES = $(BIN)/python -c 'import tomllib; \
  print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))'

lock: $(STAMP)
	$(LOCK) pyproject.toml -o requirements/prod.txt
	$(LOCK) pyproject.toml --extra dev --extra embedded -c requirements/prod.txt \
	  -o requirements/dev.txt
	$(BUILD_REQUIRES) | $(LOCK) - -o requirements/build.txt

run: $(STAMP)
	$(BIN)/onestop serve

# Debian packages the suite runs, installed when their command is missing (as root, or via
# sudo): redis-server (started on a free port), chromium (GraphiQL opened in it, headless
# and offline: tests/e2e/test_graphiql_browser.py) and promtool, from the package
# prometheus (the alert rules checked and unit-tested: tests/deploy/test_prometheus.py;
# a scrape checked by `promtool check metrics`: tests/gateway/test_metrics.py).
# $(1) is the command, $(2) the package when its name differs.
define apt-install
@command -v $(1) >/dev/null 2>&1 || { \
  echo "installing $(or $(2),$(1)) (Debian)"; \
  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    $$SUDO apt-get install -y -qq $(or $(2),$(1)) >/dev/null; }
endef

redis-server:
	$(call apt-install,redis-server)

chromium:
	$(call apt-install,chromium)

promtool:
	$(call apt-install,promtool,prometheus)

# The e2e tests' Node packages (Apollo Client; graphql-http's audit), each pinned by its
# package-lock.json. Without npm nothing is installed and those tests fail saying so (they
# are never skipped).
E2E_PACKAGES := tests/e2e/apollo tests/e2e/graphql_http tests/e2e/graphql_ws

e2e-deps:
	@if command -v npm >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(E2E_PACKAGES:%=%/node_modules/.package-lock.json); \
	else echo "npm not found: the tests in tests/e2e need Node.js >= 20 and npm"; fi

%/node_modules/.package-lock.json: %/package.json %/package-lock.json
	cd $* && npm ci --no-audit --no-fund

test: $(STAMP) redis-server chromium promtool e2e-deps
	$(BIN)/pytest -q --durations=15

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/onestop schema export

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/python bench/catalog.py

# OneStop against a hand-written endpoint and stock strawberry, then a py-spy profile of
# OneStop (~18 minutes; docs/PERFORMANCE.md). ARGS="--quick" for a smoke run.
bench-gateway: $(STAMP)
	$(BIN)/python bench/gateway.py --profile typename,item $(ARGS)

# 200 concurrent bookings of one slot and of 200 slots (~2 minutes; docs/cases.md).
bench-bookings: $(STAMP)
	$(BIN)/python bench/bookings.py $(ARGS)

bench-cases: $(STAMP)
	$(BIN)/python bench/cases.py $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(E2E_PACKAGES:%=%/node_modules)
