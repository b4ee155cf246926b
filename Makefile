# SPDX-License-Identifier: GPL-2.0
#
# dnat: distributed NAT with IPsec and DoS control, as Rust kernel modules.
#
#   make demo     the whole system in a QEMU guest (sets everything up)
#   make check    every test (sets everything up)
#
# Other targets: setup, host-setup, modules, cli, host-test, clippy, fmt,
# fmt-check, fuzz-smoke (every cargo-fuzz target for a few seconds), qemu-test
# (KUnit suites and netns scenarios in the guest), clean. DEBUG=1 selects the
# debug kernel (KASAN, UBSAN, lockdep, PROVE_RCU, kmemleak). See README.md.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
DNAT_CACHE ?= $(HOME)/.cache/dnat
export DNAT_START := $(shell date +%s)
DEBUG ?= 0
FUZZ_SECONDS ?= 5
export DNAT_CACHE
export DNAT_DEBUG := $(DEBUG)

KDIR ?= $(DNAT_CACHE)/kernel/current$(if $(filter 1,$(DEBUG)),-debug)
export PATH := $(HOME)/.cargo/bin:$(HOME)/.pyenv/shims:$(HOME)/.pyenv/bin:$(PATH)
export LIBCLANG_PATH := /usr/lib/llvm-19/lib

KMAKE_VARS := LLVM=-19 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
	BINDGEN=$(DNAT_CACHE)/bin/bindgen CLIPPY_DRIVER=/usr/bin/clippy-driver
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS)
CORE = --quiet --manifest-path rust/dnat-core/Cargo.toml
CLI = --quiet --manifest-path userspace-tool/Cargo.toml
FUZZ_CRATES = rust/dnat-core/fuzz userspace-tool/fuzz
RUSTFMT_FILES = rust/dnat_router.rs rust/dnat_host.rs

.PHONY: all setup host-setup modules cli host-test clippy fmt fmt-check fuzz-smoke qemu-test check demo bench clean

all: modules cli

# Packages, bindgen, cargo-fuzz and virtme-ng (a second when all are there).
host-setup:
	@scripts/setup-host.sh

# The same, and the kernel (cached, keyed by inputs).
setup: host-setup
	@scripts/build-kernel.sh >/dev/null

# The kernel modules; fails on any compiler warning. CLIPPY=1 lints them.
modules: setup
	@scripts/step.sh "modules: building dnat_router.ko and dnat_host.ko$(if $(CLIPPY), with clippy)"
	@$(KMAKE) modules $(if $(CLIPPY),CLIPPY=1) 2>&1 | tee .modules.log
	@! grep -E -i '(^|[^a-z_])(warning|error)(\[|:)' .modules.log
	@rm -f .modules.log

cli:
	@scripts/step.sh "cli: building userspace-tool (dnatctl)"
	@cargo build $(CLI) --release

# The YNL drift check needs python3-yaml and python3-jsonschema (host-setup)
# and the kernel source (scripts/build-kernel.sh --source fetches it).
host-test: host-setup
	@scripts/step.sh "host-test: cargo test (dnat-core, dnatctl), kernel-log check self-test, YNL drift check and self-test"
	@cargo test $(CORE)
	@cargo test $(CLI)
	@scripts/kernel-log-check.sh --self-test
	@scripts/ynl-check.sh
	@scripts/ynl-check.sh --self-test

clippy: setup
	@scripts/step.sh "clippy: dnat-core, dnatctl, kernel modules (CLIPPY=1)"
	@cargo clippy $(CORE) --all-targets -- -D warnings
	@cargo clippy $(CLI) --all-targets -- -D warnings
	@$(KMAKE) clean >/dev/null
	@$(MAKE) --no-print-directory modules CLIPPY=1

fmt:
	@rustfmt --edition 2021 --config-path scripts/rustfmt.toml $(RUSTFMT_FILES)
	@cargo fmt $(CORE)
	@cargo fmt $(CLI)
	@for d in $(FUZZ_CRATES); do cargo fmt --quiet --manifest-path $$d/Cargo.toml || exit; done

fmt-check:
	@scripts/step.sh "fmt-check: rustfmt"
	@rustfmt --check --edition 2021 --config-path scripts/rustfmt.toml $(RUSTFMT_FILES)
	@cargo fmt $(CORE) --check
	@cargo fmt $(CLI) --check
	@for d in $(FUZZ_CRATES); do cargo fmt --quiet --manifest-path $$d/Cargo.toml --check || exit; done

# Every cargo-fuzz target built and run for a few seconds (scripts/fuzz.sh):
# a target that no longer builds or crashes fails. Longer campaigns:
# scripts/fuzz.sh -r RUNS [TARGET...].
fuzz-smoke: setup
	@scripts/step.sh "fuzz-smoke: every fuzz target for $(FUZZ_SECONDS) s"
	@scripts/fuzz.sh -t $(FUZZ_SECONDS)

# KUnit suites and netns scenarios in a QEMU guest.
qemu-test: modules cli
	@qemu-tests/run.sh

check: fmt-check host-test clippy fuzz-smoke qemu-test
	@scripts/step.sh "check: all passed"

demo: modules cli
	@qemu-tests/run.sh --demo

# Benchmarks: instruction counts of the per-packet decision on the host
# (callgrind), then the router in the guest; the last line holds the ratios.
bench: modules cli
	@scripts/callgrind.sh
	@qemu-tests/run.sh --bench

clean:
	-@[ -d $(KDIR) ] && $(KMAKE) clean >/dev/null
	@cargo clean --quiet --manifest-path rust/dnat-core/Cargo.toml
	@cargo clean --quiet --manifest-path userspace-tool/Cargo.toml
	@for d in $(FUZZ_CRATES); do cargo clean --quiet --manifest-path $$d/Cargo.toml; done
