# gridloop: `make run` for the live demo, `make test` for the whole suite. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK := $(PYTHON) deploy/local/stack.py
# Bring up the local stack (or use KAFKA_BOOTSTRAP_SERVERS / REDIS_URL / DATABASE_URL when set)
# and export its settings into the command that follows.
WITH_STACK = set -a && stack="$$($(STACK) up)" && eval "$$stack" && set +a &&

.PHONY: venv promtool stack-up stack-down stack-status run test test-unit bench soak lint lock clean

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

venv: $(BIN)/.installed

# promtool (rule checks and tests) from the OS package `prometheus`, installed once when missing.
promtool:
	@sh deploy/prometheus/ensure-promtool.sh >/dev/null

stack-up:
	$(STACK) up

stack-down:
	$(STACK) down

stack-status:
	$(STACK) status

run: venv
	@$(WITH_STACK) exec $(BIN)/python -m services.demo

test: venv promtool
	@$(WITH_STACK) $(BIN)/python -m pytest -p no:cacheprovider

# End to end at increasing rates beside its baselines (not part of `make test`); writes
# bench/results/latest.json and a dated copy. BENCH_ARGS passes options, e.g. --rates 100,200.
bench: venv
	@$(WITH_STACK) $(BIN)/python -m bench.e2e $(BENCH_ARGS)

# The same run with a soak at 200 incidents/s for SOAK_MINUTES (10) minutes.
SOAK_MINUTES ?= 10
soak: venv
	@$(WITH_STACK) $(BIN)/python -m bench.e2e --soak-minutes $(SOAK_MINUTES) $(BENCH_ARGS)

test-unit: venv
	$(BIN)/python -m pytest -p no:cacheprovider tests/unit

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check services tests
	$(BIN)/mypy services

# Re-pin dependencies: names, versions and hashes only.
lock: venv
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --no-emit-index-url \
		--python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
