# mpmlua: `make demo` runs the main job on the bundled data; `make test` builds and runs every test.
SWIFT ?= swift
PREFIX ?= /usr/local
RELEASE_BIN = .build/release/mpmlua
DEBUG_BIN = .build/debug/mpmlua
N ?= 100000

.PHONY: all deps build debug test demo bench docs install uninstall data clean

all: build

deps:
	@sh tools/install-deps.sh

# Optimised build for running real work.
build: deps
	$(SWIFT) build -c release --product mpmlua

# Debug build (numeric targets are still compiled optimised: see Package.swift).
debug: deps
	$(SWIFT) build --product mpmlua

# Builds the host, then runs every Swift test and every lua/tests/*.lua script.
test: debug
	MPMLUA_BIN=$(CURDIR)/$(DEBUG_BIN) $(SWIFT) test

demo: build
	$(RELEASE_BIN) examples/demo.lua

bench: build
	$(RELEASE_BIN) bench/run.lua

# Regenerates docs/reference.md from the docstrings.
docs: build
	$(RELEASE_BIN) tools/gen_docs.lua docs/reference.md

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
