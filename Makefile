# The two commands a new user needs: `make run` and `make test`.
# Both create .venv/ when it is missing and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE ?= generated_examples/logistic_regression/graph.pkl

.PHONY: run test venv bench bench-scale examples test-pytensor3 venv-pt3 conformance conformance-pt3 lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,examples]'
	touch $(STAMP)

venv: $(STAMP)

# Transpile a bundled example graph to stdout.
run: $(STAMP)
	$(BIN)/transpile $(EXAMPLE)

# The test suite (CI runs exactly this through .ci/run), on both cores: Numba
# compilation dominates its run time.
test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup

# Regenerate generated_examples/ (graphs and modules).
examples: $(STAMP)
	$(BIN)/python generated_examples/regenerate.py
	cd generated_examples/pymc_hmc && ../../$(BIN)/transpile pymc model.py -o eight_schools.py
	cd generated_examples/pymc_hmc && ../../$(BIN)/transpile pymc --predictive model.py -o eight_schools_draws.py
	cd generated_examples/nutpie && ../../$(BIN)/transpile pymc model.py -o eight_schools.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Transpile and first-call time against graph and data size (docs/benchmarks.md, "Scale").
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

# The same suite against PyTensor 3.0.x, in a separate environment (without PyMC,
# which pins PyTensor 2.38: its tests skip, and so do the committed examples'
# freshness checks, which are tied to the PyTensor that generated them).
test-pytensor3: venv-pt3
	.venv-pt3/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup

venv-pt3:
	test -x .venv-pt3/bin/python || $(PYTHON) -m venv .venv-pt3
	.venv-pt3/bin/python -m pip install --quiet --upgrade pip
	.venv-pt3/bin/python -m pip install --quiet -e '.[test]' 'pytensor>=3.0,<3.1'

# The conformance run over PyTensor's own tests/link/numba (long: an hour or more on
# one worker; see docs/conformance.md). CONFORMANCE_ARGS="test_shape.py", "--failures",
# "--jobs 2", "--report-only", ... are passed on; PYTENSOR_REPO=<a pytensor clone> saves
# the download of the tests.
conformance: $(STAMP)
	$(BIN)/python -m pip install --quiet 'pytest-benchmark>=4'
	$(BIN)/python -m conformance $(CONFORMANCE_ARGS)

conformance-pt3: venv-pt3
	.venv-pt3/bin/python -m pip install --quiet 'pytest-benchmark>=4'
	.venv-pt3/bin/python -m conformance --root .conformance/pt3 \
		--doc docs/conformance-pt3.md $(CONFORMANCE_ARGS)

lint: $(STAMP)
	$(BIN)/python -m ruff --version >/dev/null 2>&1 || $(BIN)/python -m pip install --quiet ruff
	$(BIN)/python -m ruff check transpile tests bench conformance generated_examples/regenerate.py

clean:
	rm -rf $(VENV) .venv-pt3 build *.egg-info
