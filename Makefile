# Build and test tooling for the CycleGAN engine.
#
#   make test   vet + tests natively and as GOOS=js GOARCH=wasm in headless
#               Chromium, plus a short fuzz run. Installs what is missing.
#   make bench  kernels, training and frames natively, in the browser and in
#               PyTorch, side by side: cyclegan/BENCHMARKS.md (raw: .bench/).
#   make fuzz   short fuzz run of the safetensors parser.
#   make clean  remove .bin/ and .bench/.
#   make site   build the browser app into site/ (cyclegan.wasm, wasm_exec.js,
#               bundle.js); open site/index.html, or:
#   make serve  build it and serve it on http://127.0.0.1:8080/.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test
.DELETE_ON_ERROR:

# The project needs this Go; the go command fetches it from the module proxy.
export GOTOOLCHAIN := go1.27.3

BIN := $(CURDIR)/.bin
BENCH_DIR := $(CURDIR)/.bench
# Project-local tools come first: `go_js_wasm_exec` (wasmbrowsertest, which go
# uses to run GOOS=js GOARCH=wasm test binaries) and a `chromium` wrapper.
export PATH := $(BIN):$(PATH)

SYSTEM_CHROMIUM := /usr/bin/chromium
# Flags wasmbrowsertest cannot pass itself. Without the background-networking
# ones Chromium tries to reach the network, which is closed here.
CHROMIUM_FLAGS := --disable-background-networking --disable-component-update \
	--disable-sync --no-first-run --disable-quic --disable-gpu

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Every build uses Go 1.27's SIMD (simd/archsimd: wasm simd128 in the browser,
# AVX2+FMA natively); the engine keeps a scalar kernel for builds without it,
# which `make test` tests too (the SCALAR runs).
export GOEXPERIMENT := simd
SCALAR := GOEXPERIMENT=
WASM := GOOS=js GOARCH=wasm
WASM_SCALAR := GOOS=js GOARCH=wasm GOEXPERIMENT=

.PHONY: test vet test-native test-wasm fuzz bench tools chromium clean data site serve clean-site

test: tools
	go vet ./...
	$(WASM) go vet ./...
	go test ./...
	$(SCALAR) go test ./engine/...
	$(WASM) go test ./...
	$(WASM_SCALAR) go test ./engine/...
	$(MAKE) --no-print-directory fuzz

vet:
	go vet ./...
	$(WASM) go vet ./...

test-native:
	go test ./...

test-wasm: tools
	$(WASM) go test ./...

# A new input is minimised before it counts, for up to a minute by default:
# FuzzUnmarshalGenerator's body builds networks, so minimising took the
# whole 10 s (the log showed no executions) until capped at 1 s.
fuzz:
	go test -run=NONE -fuzz=FuzzParse -fuzztime=10s -fuzzminimizetime=1s ./engine/safetensors/
	go test -run=NONE -fuzz=FuzzUnmarshalGenerator -fuzztime=10s -fuzzminimizetime=1s ./cyclegan/

# Benchmarks, all in one run on this machine, written to cyclegan/BENCHMARKS.md
# (cmd/benchtable -report; raw outputs in .bench/):
#  - every engine kernel natively and in headless Chromium, SIMD and scalar,
#    three runs each (also tabulated alone in .bench/engine.md);
#  - a training step natively (the CLI's Trainer.Step; allocations included)
#    for presets S and M and M's networks at 64 and 256 px; in Chromium on one
#    core, S and M's step and both halves of their two-worker iteration;
#  - training in real Web Workers in Chromium (the app's engine worker, and its
#    peer for two workers) for S and M, five rounds of all four (one and two
#    workers side by side, not half an hour apart) with S also on one worker
#    beside a second run that keeps the other core busy, and a plain kernel
#    in one and in two workers at once (the machine's own two-core speed-up);
#    M beside a busy core once, and M's networks at 64 and 256 px;
#    webcam frames through the engine worker with M's generator;
#  - the reference PyTorch iteration with 2 threads (Debian's python3-torch,
#    installed by the torch target; skipped with a note when it cannot be).
BENCH_FLAGS := -run=NONE -bench=. -count=3
PYTORCH_SPEED := /usr/bin/python3 cmd/cyclegan/testdata/pytorch_speed.py --threads 2
bench: tools torch
	mkdir -p $(BENCH_DIR)
	{ echo "date: $$(date -u '+%Y-%m-%d %H:%M UTC')"; \
	  echo "machine: $$(nproc) cores, $$(free -g | awk '/^Mem:/ {print $$2}') GB"; \
	  echo "cpu: $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"; \
	  echo "go: $$(go version) GOEXPERIMENT=$(GOEXPERIMENT)"; \
	  echo "chromium: $$($(SYSTEM_CHROMIUM) --version 2>/dev/null)"; \
	  echo "load before: $$(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"; } > $(BENCH_DIR)/env.txt
	go test $(BENCH_FLAGS) -benchmem ./engine/... | tee $(BENCH_DIR)/native.txt
	$(SCALAR) go test $(BENCH_FLAGS) -benchmem ./engine/... | tee $(BENCH_DIR)/native-scalar.txt
	$(WASM) go test $(BENCH_FLAGS) ./engine/... | tee $(BENCH_DIR)/wasm.txt
	$(WASM_SCALAR) go test $(BENCH_FLAGS) ./engine/... | tee $(BENCH_DIR)/wasm-scalar.txt
	go run ./cmd/benchtable -metric GFLOP/s "native SIMD (2 cores)=$(BENCH_DIR)/native.txt" \
		"native scalar (2 cores)=$(BENCH_DIR)/native-scalar.txt" "browser SIMD (1 core)=$(BENCH_DIR)/wasm.txt" \
		"browser scalar (1 core)=$(BENCH_DIR)/wasm-scalar.txt" > $(BENCH_DIR)/engine.md
	go test -run=NONE -bench=TrainerStep -benchtime=3x -count=3 -benchmem ./cyclegan/ | tee $(BENCH_DIR)/step-native.txt
	$(WASM) go test -run=NONE -bench='TrainerStep_(S|M)_|SplitStep' -benchtime=3x ./cyclegan/ | tee $(BENCH_DIR)/step-wasm.txt
	for run in 1 2 3 4 5; do \
	  $(WASM) go test -run=NONE -bench='BrowserTrain_S_(1worker|1worker_busy|2workers)$$|BrowserTrain_M_(1worker|2workers)$$|BrowserKernel' \
	    -benchtime=1x -timeout=60m ./wasm/ || exit 1; \
	done | tee $(BENCH_DIR)/browser.txt
	$(WASM) go test -run=NONE -bench='BrowserTrain_M_1worker_busy|BrowserTrain_M(64|256)px|BrowserFrame' -benchtime=1x -timeout=60m ./wasm/ | tee -a $(BENCH_DIR)/browser.txt
	if /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
		echo "torch: $$(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), 2 threads" >> $(BENCH_DIR)/env.txt; \
		{ $(PYTORCH_SPEED) --size 64 --ngf 16 --blocks 3 --iters 20 --bench-name PyTorch_S; \
		  $(PYTORCH_SPEED) --size 128 --ngf 32 --blocks 6 --iters 10 --warmup 3 --bench-name PyTorch_M; \
		  $(PYTORCH_SPEED) --size 64 --ngf 32 --blocks 6 --iters 20 --bench-name PyTorch_M64px; \
		  $(PYTORCH_SPEED) --size 256 --ngf 32 --blocks 6 --iters 4 --warmup 2 --bench-name PyTorch_M256px; \
		} | tee $(BENCH_DIR)/pytorch.txt; \
	else \
		echo "torch: not installed (apt-get install python3-torch), its column is empty" | tee -a $(BENCH_DIR)/env.txt; \
		: > $(BENCH_DIR)/pytorch.txt; \
	fi
	echo "load after: $$(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)" >> $(BENCH_DIR)/env.txt
	go run ./cmd/benchtable -report $(BENCH_DIR) -o cyclegan/BENCHMARKS.md
	cat cyclegan/BENCHMARKS.md

# Debian's PyTorch, for make bench's reference column only (make test never
# needs it).
.PHONY: torch
torch:
	@if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
		echo "installing python3-torch with apt-get (make bench's PyTorch column)"; \
		{ $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y python3-torch; } || \
			echo "python3-torch not installed: make bench's PyTorch column will be empty"; \
	fi

tools: chromium $(BIN)/chromium $(BIN)/go_js_wasm_exec
tools: wrangler

# wrangler (npm, pinned by cmd/edge/package-lock.json) in cmd/edge/node_modules
# (gitignored), for cmd/edge's test, which runs the sharing API under
# `wrangler dev`. Without npm or the npm registry the test skips itself (and
# would install wrangler itself when it can).
WRANGLER_VERSION := 4.86.0
.PHONY: wrangler
wrangler:
	@if [ "$$(cd cmd/edge && node -p 'require("wrangler/package.json").version' 2>/dev/null)" != $(WRANGLER_VERSION) ]; then \
		echo "installing wrangler $(WRANGLER_VERSION) (npm ci in cmd/edge)"; \
		(cd cmd/edge && npm ci --no-audit --no-fund) || \
			echo "wrangler not installed (npm missing or the registry unreachable): cmd/edge's test will skip"; \
	fi

# Install Debian's Chromium only when it is absent.
chromium:
	@if [ ! -x $(SYSTEM_CHROMIUM) ]; then \
		echo "installing chromium with apt-get"; \
		$(SUDO) apt-get update; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium; \
	fi

$(BIN)/chromium: Makefile
	mkdir -p $(BIN)
	printf '%s\n' '#!/bin/sh' \
		'# Generated by the Makefile: Chromium with the flags wasmbrowsertest cannot pass.' \
		'exec $(SYSTEM_CHROMIUM) $(strip $(CHROMIUM_FLAGS)) "$$@"' > $@.tmp
	chmod +x $@.tmp
	mv $@.tmp $@

# wasmbrowsertest, built from the separate tools module in .ci/tools (which pins
# an older chromedp that must stay out of the main module).
#
# It waits for the test page to finish with chromedp.WaitEnabled, which asks
# Chromium for the DOM through DevTools every 5 ms. For as long as a test runs
# that keeps a third of a core busy (the runner, the browser process and its
# DevTools and IO threads), and on a two-core machine that time comes out of
# the engine workers': beside two training workers, top showed each worker at
# 80-86% of a core with the 5 ms poll and at 94-97% with a 100 ms one. So the
# build copies the module, gives that one call a 100 ms interval and builds
# the copy in its place (a replace in a copy of the tools go.mod); grep stops
# the build if a new wasmbrowsertest changes the line.
WBT := $(BIN)/wbt
WBT_WAIT := chromedp.WaitEnabled(`\#doneButton`),
WBT_WAIT_SLOW := chromedp.WaitEnabled(`\#doneButton`, chromedp.RetryInterval(100*time.Millisecond)),
$(BIN)/go_js_wasm_exec: .ci/tools/go.mod .ci/tools/go.sum Makefile
	rm -rf $(WBT) && mkdir -p $(WBT)
	cd .ci/tools && dir=$$(go mod download -json github.com/agnivade/wasmbrowsertest | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p') && \
	grep -qF '$(WBT_WAIT)' "$$dir/main.go" && \
	cp -r "$$dir" $(WBT)/src && chmod -R u+w $(WBT)/src && \
	sed -e 's/$(WBT_WAIT)/$(WBT_WAIT_SLOW)/' -e '0,/^import (/s//import (\n\t"time"/' "$$dir/main.go" > $(WBT)/src/main.go && \
	cp go.mod go.sum $(WBT)/ && \
	go mod edit -modfile=$(WBT)/go.mod -replace github.com/agnivade/wasmbrowsertest=$(WBT)/src && \
	go build -modfile=$(WBT)/go.mod -buildvcs=false -o $@ github.com/agnivade/wasmbrowsertest

# The emoji data set of REFERENCE.md §8: the same 3,786 emoji drawn by Twitter
# (Twemoji, CC-BY 4.0) and Google (Noto, Apache 2.0), 64×64 RGBA. Domain A is
# Twemoji, B is Noto; every 10th file name (sorted) is held out as test data:
#   data/emoji/{trainA,trainB,testA,testB}/
DATA := $(CURDIR)/data
EMOJI_VERSION := 16.0.0
data: $(DATA)/emoji/.done

$(DATA)/emoji/.done:
	mkdir -p $(DATA)/npm $(DATA)/emoji
	cd $(DATA)/npm && for p in twitter google; do \
		[ -f emoji-datasource-$$p-$(EMOJI_VERSION).tgz ] || npm pack --silent emoji-datasource-$$p@$(EMOJI_VERSION); \
		rm -rf $$p && mkdir $$p && tar -xzf emoji-datasource-$$p-$(EMOJI_VERSION).tgz -C $$p; \
	done
	rm -rf $(DATA)/emoji/train* $(DATA)/emoji/test*
	mkdir -p $(DATA)/emoji/trainA $(DATA)/emoji/trainB $(DATA)/emoji/testA $(DATA)/emoji/testB
	i=0; for f in $$(cd $(DATA)/npm/twitter/package/img/twitter/64 && ls *.png | LC_ALL=C sort); do \
		[ -f $(DATA)/npm/google/package/img/google/64/$$f ] || continue; \
		if [ $$((i % 10)) -eq 9 ]; then split=test; else split=train; fi; \
		cp $(DATA)/npm/twitter/package/img/twitter/64/$$f $(DATA)/emoji/$${split}A/; \
		cp $(DATA)/npm/google/package/img/google/64/$$f $(DATA)/emoji/$${split}B/; \
		i=$$((i + 1)); \
	done
	@echo "emoji: $$(ls $(DATA)/emoji/trainA | wc -l) train and $$(ls $(DATA)/emoji/testA | wc -l) held-out pairs in $(DATA)/emoji"
	touch $@

clean:
	rm -rf $(BIN) $(BENCH_DIR)

# The browser app. site/cyclegan.wasm is the one WebAssembly program of the
# page and of the engine worker (wasm/app); bundle.js carries it (base64) and
# the worker's script, so the page also runs from file://, where fetch and
# workers from files are blocked. All three files are generated (gitignored).
SITE_GO := $(shell find . \( -path './.*' -o -path ./data \) -prune -o -name '*.go' ! -name '*_test.go' -print) go.mod go.sum
SERVE_ADDR := 127.0.0.1:8080

site: site/cyclegan.wasm site/wasm_exec.js site/bundle.js

site/cyclegan.wasm: $(SITE_GO)
	$(WASM) go build -o $@ ./wasm/app

site/wasm_exec.js: Makefile go.mod
	install -m 0644 "$$(go env GOROOT)/lib/wasm/wasm_exec.js" $@

site/bundle.js: site/cyclegan.wasm site/wasm_exec.js worker.js cmd/serve/main.go site/bundle.go
	go run ./cmd/serve -bundle -dir site -worker worker.js

serve: site
	go run ./cmd/serve -dir site -addr $(SERVE_ADDR)

clean-site:
	rm -f site/cyclegan.wasm site/wasm_exec.js site/bundle.js
