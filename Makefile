# mpmlua: `make demo` runs the main job on the bundled data; `make test` builds and runs every test.
SWIFT ?= swift
PREFIX ?= /usr/local
# One optimised configuration for everything: the tests run the code that demo and bench run,
# at full speed (a debug build does not specialise generic kernels across files and runs them
# 10-30x slower). -enable-testing lets the Swift tests use @testable import.
SWIFT_FLAGS = -c release -Xswiftc -enable-testing
RELEASE_BIN = .build/release/mpmlua
N ?= 100000

.PHONY: all deps build test demo paper bench bench-step product-table docs install uninstall data data-cwola clean

all: build

deps:
	@sh tools/install-deps.sh

build: deps
	$(SWIFT) build $(SWIFT_FLAGS) --product mpmlua

# Builds the host and the tests, then runs every Swift test and every lua/tests/*.lua script.
# The run takes about a minute; TEST_TIMEOUT turns a hang into a failure instead of a stalled CI.
TEST_TIMEOUT ?= 1200
test: build
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	MPMLUA_BIN=$(CURDIR)/$(RELEASE_BIN) timeout --kill-after=30 $(TEST_TIMEOUT) $(SWIFT) test $(SWIFT_FLAGS) --skip-build

demo: build
	$(RELEASE_BIN) examples/train_cfm.lua --overwrite

# The paper's claims on this machine (examples/paper.lua): pre-trains the backbones, runs the
# downstream protocols against random init over seeds and writes report/README.md. BUDGET=quick
# (the default) takes 14 minutes on 2 cores, BUDGET=full about 2.9 hours (estimated from its stages); an
# interrupted run resumes where it stopped. Under Open MPI it runs as PAPER_RANKS processes of one
# core each (a power of two up to 8, so that they split the pre-training batch of 64 evenly): the
# sweeps deal out their runs and pre-training is data-parallel, 1.3-1.4x the work per second of one
# process on two threads (docs/results.md). PAPER_RANKS=1, or no mpirun, runs one process.
BUDGET ?= quick
PAPER_RANKS ?= $(shell n=$$(nproc); for k in 8 4 2 1; do [ $$n -ge $$k ] && { echo $$k; break; }; done)
paper: build
	@if [ "$(PAPER_RANKS)" -gt 1 ] && command -v mpirun >/dev/null; then \
		set -x; OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -n $(PAPER_RANKS) --bind-to core \
			$(RELEASE_BIN) examples/paper.lua --budget $(BUDGET); \
	else set -x; $(RELEASE_BIN) examples/paper.lua --budget $(BUDGET); fi

# Our kernels against NumPy (and PyTorch when installed) measured in the same run; then
# pre-training steps/s with one process and with mpirun -n 2 (bench/distributed.lua).
bench: build
	python3 -c "import numpy" 2>/dev/null || python3 -m pip install -q --only-binary=:all: numpy
	$(RELEASE_BIN) bench/run.lua
	$(RELEASE_BIN) bench/distributed.lua

# The MPM training step and backbone inference (small and paper presets, B = 256, ID + CFM,
# AdamW) against a PyTorch eager twin, in one run on the same threads (bench/step.lua; ~9 min),
# in fp32 and in bf16 mixed precision (mpm.autocast against torch.autocast).
# Without PyTorch (it installs the CPU wheel when it can) the mpmlua half still runs.
BENCH_THREADS ?= 2
bench-step: build
	@python3 -c "import torch" 2>/dev/null || python3 -m pip install -q torch==2.13.0+cpu 2>/dev/null \
		|| echo "bench-step: PyTorch could not be installed; timing mpmlua only"
	$(RELEASE_BIN) bench/step.lua --threads $(BENCH_THREADS)

# The measurement behind the product layer's rule (docs/architecture.md, "Matrix products"):
# OpenBLAS sgemm, oneDNN f32 and oneDNN bf16 on the training step's shapes, threaded as mpmlua
# threads them (~30 s).
product-table: deps
	mkdir -p .build
	$(CC) -O2 -o .build/product_table tools/product_table.c -lopenblas -ldnnl -lgomp -lpthread
	.build/product_table

# Generates larger JetClass-like and BTag-like sets with Pythia 8 into data/generated/
# (make data N=100000 WORKERS=2); the bundled files in data/ stay as they are.
WORKERS ?= 2
data:
	python3 -m pip install -q --only-binary=:all: -r tools/jetgen/requirements.txt
	mkdir -p data/generated
	python3 tools/jetgen/jetgen.py jetclass --n $(N) --seed 11 --workers $(WORKERS) --out data/generated/jetclass_train.h5
	python3 tools/jetgen/jetgen.py jetclass --n $$(( $(N) / 10 )) --seed 12 --workers $(WORKERS) --out data/generated/jetclass_val.h5
	python3 tools/jetgen/jetgen.py jetclass --n $$(( $(N) / 10 )) --seed 13 --workers $(WORKERS) --out data/generated/jetclass_test.h5
	python3 tools/jetgen/jetgen.py btag --n $(N) --seed 21 --workers $(WORKERS) --out data/generated/btag_train.h5
	python3 tools/jetgen/jetgen.py btag --n $$(( $(N) / 10 )) --seed 22 --workers $(WORKERS) --out data/generated/btag_val.h5
	python3 tools/jetgen/jetgen.py btag --n $$(( $(N) / 10 )) --seed 23 --workers $(WORKERS) --out data/generated/btag_test.h5

# CWoLa-sized QCD and TTBar jets only (make data-cwola N=200000 WORKERS=2; ~14 jets/s per worker)
# into data/generated/cwola_*.h5, for examples/cwola.lua --data/--val/--test.
data-cwola:
	python3 -m pip install -q --only-binary=:all: -r tools/jetgen/requirements.txt
	mkdir -p data/generated
	python3 tools/jetgen/jetgen.py jetclass --classes QCD,TTBar --n $(N) --seed 31 --workers $(WORKERS) --out data/generated/cwola_train.h5
	python3 tools/jetgen/jetgen.py jetclass --classes QCD,TTBar --n $$(( $(N) / 4 )) --seed 32 --workers $(WORKERS) --out data/generated/cwola_val.h5
	python3 tools/jetgen/jetgen.py jetclass --classes QCD,TTBar --n $$(( $(N) / 4 )) --seed 33 --workers $(WORKERS) --out data/generated/cwola_test.h5

# Regenerates docs/reference.md from the docstrings.
docs: build
	$(RELEASE_BIN) tools/gen_docs.lua --out docs/reference.md

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mpmlua
	install -m 755 $(RELEASE_BIN) $(DESTDIR)$(PREFIX)/bin/mpmlua
	rm -rf $(DESTDIR)$(PREFIX)/share/mpmlua/lua
	cp -R lua $(DESTDIR)$(PREFIX)/share/mpmlua/lua

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mpmlua
	rm -rf $(DESTDIR)$(PREFIX)/share/mpmlua

clean:
	rm -rf .build
