# The README's quick start: `make demo` and `make test`. Each does its own set-up (.ci/setup, idempotent).
#   make demo            examples/shop on the demo sandbox: apply, proofs, watch, down, the cluster as before
#   make demo KEEP=1     ... but leave the shop bridged to play on (prints the commands to run next)
#   make demo-clean      gefyra down of the shop and the demo sandbox down
#   make test            static checks, then the whole test suite (what .ci/run runs after its set-up)
#   make check           the static checks only
PYTHON ?= python3
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: demo demo-clean test check setup

demo:
	$(PYTHON) scripts/demo.py $(if $(KEEP),--keep)

demo-clean:
	$(PYTHON) scripts/demo.py --clean

setup:
	bash .ci/setup

check:
	$(PYTHON) -m mypy
	$(PYTHON) -m mypy --explicit-package-bases scripts/demo.py scripts/demo_main.py scripts/demo_run.py scripts/demo_shop.py
	$(PYTHON) -m ruff check gefyra tests bench operator scripts
	$(PYTHON) -m ruff format --check gefyra tests operator scripts
	lint-imports

# The README's test command. pytest's exit code 5 (nothing collected) is a failure too.
test: setup check
	$(PYTHON) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc
