# The one entry point. Every target that needs tools creates the virtual environment first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PORT ?= 8765
# podman settings these machines need (runc, no default ulimits) where runc is; set CONTAINERS_CONF to override
export CONTAINERS_CONF ?= $(if $(shell command -v runc),$(CURDIR)/image/containers.conf)
DIST ?= dist

.DEFAULT_GOAL := help
.PHONY: help venv generate test unit lint format typecheck docs docs-check demo emulator build publish bench mutate api-diff release image image-test lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

venv: $(STAMP)  ## create .venv with the pinned tools and the package (editable, with the emulator extra)

# pip is pinned first: --group (the docs dependency group of pyproject.toml) needs pip 25.1 or newer, and a new venv
# may bring an older one.
$(STAMP): pyproject.toml requirements/dev.txt requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check 'pip==26.3'
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -r requirements/dev.txt --group docs -e '.[emulator]'
	$(PY) scripts/wheelhouse.py $(VENV)/wheelhouse
	@touch $@

generate: $(STAMP)  ## validate the spec and regenerate generated/ (the only writer of generated/)
	$(PY) scripts/generate.py

test: lint typecheck docs  ## lint, type-check, the docs site, the whole test suite, the site in Chromium and the image test where they run
	$(PY) -m pytest
	$(PY) scripts/docs_check.py
	$(PY) scripts/image.py test

docs: $(STAMP)  ## the documentation site into build/site (mkdocs-material, API reference by mkdocstrings), --strict
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-check: docs  ## the built site in headless Chromium: the API page renders list_models, search finds RetryPolicy
	$(PY) scripts/docs_check.py

unit: $(STAMP)  ## run the test suite without lint and type checks
	$(PY) -m pytest

demo: $(STAMP)  ## the main job: the SDK against the embedded emulator (pages, a retried 429, a bad filter, the CLI)
	$(PY) examples/demo.py

image: $(STAMP)  ## the emulator's image speech-models-emulator:VERSION from this tree's wheels (BASE=<base image>)
	$(PY) scripts/image.py build

image-test: $(STAMP)  ## build the image, run it, list through it, check its user and SIGTERM, report its size
	$(PY) scripts/image.py test

emulator: $(STAMP)  ## serve the emulator on 127.0.0.1:$(PORT) until Ctrl-C
	$(PY) -m speech_models_emulator --port $(PORT)

# Only this package's files in $(DIST) are replaced: DIST may be a folder that holds other things.
# Reproducible: every file's time is the last commit's (SOURCE_DATE_EPOCH), so two clones build the same bytes.
build: $(STAMP)  ## wheel and sdist into $(DIST)/ with the pinned build backend, checked by twine; prints their sha256
	rm -f $(DIST)/speech_models-*.whl $(DIST)/speech_models-*.tar.gz
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 315532800) $(PY) -m build --no-isolation --outdir $(DIST) .
	$(BIN)/twine check --strict $(DIST)/speech_models-*.whl $(DIST)/speech_models-*.tar.gz
	@cd $(DIST) && sha256sum speech_models-*.whl speech_models-*.tar.gz

publish: $(STAMP)  ## upload $(DIST)/ to TWINE_REPOSITORY_URL as TWINE_USERNAME / TWINE_PASSWORD
	$(PY) scripts/publish.py --check-only
	$(MAKE) --no-print-directory build DIST=$(DIST)
	$(PY) scripts/publish.py $(DIST)

bench: $(STAMP)  ## throughput against the raw httpx floors and memory (BEFORE=<git ref> times that SDK too)
	$(PY) benchmarks/bench.py $(if $(BEFORE),--before $(BEFORE))

mutate: $(STAMP)  ## mutation testing of the retry, paging, page, endpoint, headers and auth modules (slow; not in make test)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -r requirements/mutate.txt
	$(PY) scripts/mutate.py $(if $(MODULES),--modules "$(MODULES)") $(if $(RETEST),--retest-survivors)

release: $(STAMP)  ## refuse without a changelog entry or with an API break; publish, install from RELEASE_INDEX_URL, smoke-test, tag
	$(PY) scripts/release.py $(if $(NO_TAG),--no-tag)

api-diff: $(STAMP)  ## breaking changes to the public API and the spec since the last release tag (AGAINST=<git ref>)
	$(PY) scripts/api_diff.py $(if $(AGAINST),--against $(AGAINST))

# The runtime helpers the templates emit (types.py, errors.py) are held to the hand-written code's rules too.
EMITTED_RUNTIME := generated/speech_models_client/types.py generated/speech_models_client/errors.py

lint: $(STAMP)  ## ruff lint and format check of the hand-written code and of the runtime the templates emit
	$(BIN)/ruff check . $(EMITTED_RUNTIME)
	$(BIN)/ruff format --check . $(EMITTED_RUNTIME)

format: $(STAMP)  ## apply ruff's fixes and formatting to the hand-written code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)  ## mypy --strict on the packages, tests, benchmarks and examples
	$(BIN)/mypy overlay/speech_models emulator/speech_models_emulator scripts generated/speech_models_client tests benchmarks examples

lock: $(STAMP)  ## re-resolve requirements/constraints.txt from requirements/dev.txt and pyproject.toml
	{ echo '# Full pinned set for development (make lock re-resolves it); installs use it as pip constraints.'; \
	  $(PY) -m pip freeze --exclude-editable --exclude pip; } > requirements/constraints.txt

clean:  ## remove the virtual environment, build output and caches
	rm -rf $(VENV) dist build .mypy_cache .ruff_cache .pytest_cache .hypothesis .schemathesis .mutate
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
