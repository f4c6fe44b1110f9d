# Two commands on a fresh machine (Python 3.11 with pip and venv):
#   make run   - dashboard on the generated demo data (builds it first if missing)
#   make test  - the test suite (installs the Debian packages the tests need when missing:
#                .ci/install-system-deps, with sudo when not root)
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STORE ?= data/store
DEMO_EXTRACTS ?= data/demo_extracts
PORT ?= 8501

.PHONY: run test test-pg venv test-deps system-deps demo-store bench bench-replicas clean

$(VENV)/.installed: requirements.txt
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed

test-deps: $(VENV)/.installed-test

# The demo store: the generated demo series (9 snapshots), each imported into $(STORE).
$(STORE)/.demo-built: $(VENV)/.installed
	@echo "== Tạo dữ liệu mẫu (demo) vào $(DEMO_EXTRACTS) =="
	$(VPY) -m sample_data.generate --scale demo --out $(DEMO_EXTRACTS)
	@echo "== Nhập các snapshot vào kho $(STORE) =="
	$(VPY) -m data_access ingest $(DEMO_EXTRACTS)/*/ --store $(STORE)
	touch $@

demo-store: $(STORE)/.demo-built

# env -u TIENDO_VIEWER: the test hook that skips login never reaches a server started here.
# serve.py = streamlit run dashboard.py, with the pages/ folder routing off (pasted links).
run: $(STORE)/.demo-built
	env -u TIENDO_VIEWER TIENDO_STORE=$(STORE) $(VPY) serve.py --server.headless true \
	  --server.port $(PORT) --server.address 127.0.0.1 --browser.gatherUsageStats false \
	  --server.fileWatcherType none

# chromium, LibreOffice Calc, poppler, fonts: for the browser and spreadsheet tests only
# (`make run` needs none of them). Installs only what is missing; one clear line when it cannot.
system-deps:
	@.ci/install-system-deps

test: system-deps $(VENV)/.installed-test
	$(VPY) -m pytest -q tests

# The same suite with the operational store on PostgreSQL for every test (issue 17): a throw-away
# server in a temporary folder, a fresh schema per test. `TIENDO_OPS_URL=postgresql://... make test`
# does the same on a server of yours.
test-pg: system-deps $(VENV)/.installed-test
	TIENDO_TEST_OPS=postgresql $(VPY) -m pytest -q tests

bench: $(VENV)/.installed
	$(VPY) -m bench.bench_ingest
	$(VPY) -m bench.bench_engine

# Issue 17: the same load through nginx (deploy/nginx/tiendo.conf) with 1, then 2 replicas on a
# throw-away PostgreSQL, reported side by side. Needs nginx and postgresql (make system-deps).
bench-replicas: $(STORE)/.demo-built $(VENV)/.installed-test
	$(VPY) -m bench.load_test --store $(STORE) --client protocol --sessions 1,10,30 \
	  --via-nginx --replicas 1,2 --pg --json test-artifacts/load_replicas.json

clean:
	rm -rf $(VENV) data build test-artifacts
