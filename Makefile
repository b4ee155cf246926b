# SPDX-License-Identifier: GPL-2.0
#
# dnat: distributed NAT with IPsec and DoS control, as Rust kernel modules.
#
#   make demo     the whole system in a QEMU guest (sets everything up)
#   make check    every test (sets everything up)
#
# Other targets: setup, host-setup, modules, cli, host-test, gen, clippy,
# fmt, fmt-check, fuzz-smoke (every cargo-fuzz target for a few seconds),
# qemu-test (KUnit suites and netns scenarios in the guest), install,
# uninstall, clean. DEBUG=1 selects the debug kernel (KASAN, UBSAN, lockdep,
# PROVE_RCU, kmemleak). See README.md.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
DNAT_CACHE ?= $(HOME)/.cache/dnat
export DNAT_START := $(shell date +%s)
DEBUG ?= 0
FUZZ_SECONDS ?= 5
export DNAT_CACHE
export DNAT_DEBUG := $(DEBUG)

KDIR ?= $(DNAT_CACHE)/kernel/current$(if $(filter 1,$(DEBUG)),-debug)
export PATH := $(DNAT_CACHE)/bin:$(HOME)/.cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin:$(PATH)
export LIBCLANG_PATH := /usr/lib/llvm-19/lib

KMAKE_VARS := LLVM=-19 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
	BINDGEN=$(DNAT_CACHE)/bin/bindgen CLIPPY_DRIVER=/usr/bin/clippy-driver
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS)
CORE = --quiet --manifest-path rust/dnat-core/Cargo.toml
CLI = --quiet --manifest-path userspace-tool/Cargo.toml
FUZZ_CRATES = rust/dnat-core/fuzz userspace-tool/fuzz
RUSTFMT_FILES = rust/dnat_router_main.rs rust/dnat_host_main.rs

.PHONY: all setup host-setup modules cli host-test gen clippy fmt fmt-check fuzz-smoke qemu-test check demo bench clean
.PHONY: install install-modules install-cli install-units uninstall uninstall-modules uninstall-cli uninstall-units units-check

# Installation (Documentation/networking/dnat.rst, "Installing and running
# as services"). Nothing is built: make install takes the modules and
# dnatctl as make modules and make cli left them.
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
# kmod reads /usr/local/lib/modprobe.d as well as /lib/modprobe.d, and
# systemd /usr/local/lib/systemd/system as well as /lib/systemd/system:
# both follow PREFIX; /etc is left to the administrator.
MODPROBEDIR ?= $(PREFIX)/lib/modprobe.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DNATLIBDIR ?= $(PREFIX)/lib/dnat
DOCDIR ?= $(PREFIX)/share/doc/dnat
# Where the units read their settings (not installed into).
SYSCONFDIR ?= /etc
# The release of the kernel the modules were built against.
KRELEASE ?= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
MODDIR = /lib/modules/$(KRELEASE)/extra
KOS = rust/dnat_router.ko rust/dnat_host.ko
DNATCTL_BIN = userspace-tool/target/release/dnatctl
UNITS = dnat-router.service dnat-host.service dnat-follow.service dnat-ca.service
UNIT_SUBST = -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DNATLIBDIR@|$(DNATLIBDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g'
# depmod runs where the kernel release is installed (its modules.order is
# there), so that modules.dep knows nf_defrag_ipv4; elsewhere (a staging
# DESTDIR, a kernel not installed yet) the kernel's installation or the
# package's depmod picks up extra/ later.
DEPMOD = if [ -f "$(DESTDIR)/lib/modules/$(KRELEASE)/modules.order" ]; then \
		depmod $(if $(DESTDIR),-b "$(DESTDIR)") $(KRELEASE); \
	else \
		echo "$@: note: depmod skipped: no kernel $(KRELEASE) installed in $(DESTDIR)/lib/modules (no modules.order); run depmod $(KRELEASE) where it is"; \
	fi

all: modules cli

# Packages, bindgen, cargo-fuzz and virtme-ng (a second when all are there).
host-setup:
	@scripts/setup-host.sh

# The same, and the kernel (cached, keyed by inputs).
setup: host-setup
	@scripts/build-kernel.sh >/dev/null

# The kernel modules; fails on any compiler warning. CLIPPY=1 lints them.
# Against a kernel tree outside the cache (KDIR=TREE: README.md, "Installing
# on a real machine") the set-up, which builds the test kernel, is skipped.
modules: $(if $(filter $(DNAT_CACHE)/kernel/%,$(KDIR)),setup)
	@scripts/step.sh "modules: building dnat_router.ko and dnat_host.ko$(if $(CLIPPY), with clippy)"
	@$(KMAKE) modules $(if $(CLIPPY),CLIPPY=1) 2>&1 | tee .modules.log
	@! grep -E -i '(^|[^a-z_])(warning|error)(\[|:)' .modules.log
	@rm -f .modules.log

cli:
	@scripts/step.sh "cli: building userspace-tool (dnatctl)"
	@cargo build $(CLI) --release

# The YNL drift check needs python3-yaml and python3-jsonschema (host-setup)
# and the kernel source (scripts/build-kernel.sh --source fetches it).
# cargo test of dnatctl includes the drift check of the man pages and
# completions (src/gen.rs): they must be what the clap definitions generate.
# units-check verifies the systemd units (and builds dnatctl for it).
host-test: host-setup
	@scripts/step.sh "host-test: cargo test (dnat-core, dnatctl with the man page and completion drift check), kernel-log check self-test, YNL drift check and self-test, units-check"
	@cargo test $(CORE)
	@cargo test $(CLI)
	@bash -n Documentation/completions/dnatctl.bash
	@if command -v zsh >/dev/null; then zsh -n Documentation/completions/dnatctl.zsh; \
	else echo "host-test: zsh not installed: zsh -n of the zsh completion skipped"; fi
	@scripts/kernel-log-check.sh --self-test
	@scripts/ynl-check.sh
	@scripts/ynl-check.sh --self-test
	@$(MAKE) --no-print-directory units-check

# Regenerates Documentation/man/*.8 and Documentation/completions/ from the
# clap definitions (the drift check of host-test with DNATCTL_REGENERATE=1).
GEN_TEST = gen::tests::checked_in_man_pages_and_completions_are_current
gen:
	@scripts/step.sh "gen: man pages and completions from the clap definitions"
	@DNATCTL_REGENERATE=1 cargo test $(CLI) --bin dnatctl -- --exact $(GEN_TEST) --nocapture 2>&1 | grep '^generated'
	@cargo test $(CLI) --bin dnatctl -- --exact $(GEN_TEST) >/dev/null

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

install: install-modules install-cli install-units

# The modules into /lib/modules/KRELEASE/extra (KRELEASE read from KDIR, and
# checked against the modules' vermagic), and a modprobe.d file.
install-modules:
	@for k in $(KOS); do [ -f $$k ] || { echo "$@: $$k is missing: run make modules first" >&2; exit 1; }; done
	@[ -n "$(KRELEASE)" ] || { echo "$@: no kernel release: $(KDIR)/include/config/kernel.release is missing; set KDIR (or KRELEASE)" >&2; exit 1; }
	@for k in $(KOS); do v=$$(modinfo -F vermagic $$k | cut -d' ' -f1); \
		[ "$$v" = "$(KRELEASE)" ] || { echo "$@: $$k was built for $$v, not $(KRELEASE): set KDIR or rebuild" >&2; exit 1; }; done
	install -d "$(DESTDIR)$(MODDIR)" "$(DESTDIR)$(MODPROBEDIR)"
	install -m 644 $(KOS) "$(DESTDIR)$(MODDIR)/"
	install -m 644 scripts/modprobe-dnat.conf "$(DESTDIR)$(MODPROBEDIR)/dnat.conf"
	@$(DEPMOD)

# dnatctl, its man pages and completions (the checked-in copies, which
# host-test keeps equal to what the clap definitions generate).
install-cli:
	@[ -x $(DNATCTL_BIN) ] || { echo "$@: $(DNATCTL_BIN) is missing: run make cli first" >&2; exit 1; }
	install -d "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(MANDIR)/man8" "$(DESTDIR)$(BASHCOMPDIR)" "$(DESTDIR)$(ZSHCOMPDIR)"
	install -m 755 $(DNATCTL_BIN) "$(DESTDIR)$(SBINDIR)/dnatctl"
	install -m 644 Documentation/man/*.8 "$(DESTDIR)$(MANDIR)/man8/"
	install -m 644 Documentation/completions/dnatctl.bash "$(DESTDIR)$(BASHCOMPDIR)/dnatctl"
	install -m 644 Documentation/completions/dnatctl.zsh "$(DESTDIR)$(ZSHCOMPDIR)/_dnatctl"

# The systemd units (paths substituted), host-up, the example settings.
install-units:
	install -d "$(DESTDIR)$(SYSTEMDUNITDIR)" "$(DESTDIR)$(DNATLIBDIR)" "$(DESTDIR)$(DOCDIR)/examples"
	@for u in $(UNITS); do \
		echo "sed ... scripts/systemd/$$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u"; \
		sed $(UNIT_SUBST) scripts/systemd/$$u >"$(DESTDIR)$(SYSTEMDUNITDIR)/$$u" && \
		chmod 644 "$(DESTDIR)$(SYSTEMDUNITDIR)/$$u" || exit; \
		if grep -n '@[A-Z_]*@' "$(DESTDIR)$(SYSTEMDUNITDIR)/$$u" >&2; then \
			echo "$@: scripts/systemd/$$u: unknown placeholder (above)" >&2; exit 1; fi; done
	install -m 755 scripts/host-up.sh "$(DESTDIR)$(DNATLIBDIR)/host-up"
	install -m 644 scripts/systemd/router.env scripts/systemd/host.env \
		Documentation/networking/examples/router.conf Documentation/networking/examples/host.conf \
		"$(DESTDIR)$(DOCDIR)/examples/"

uninstall: uninstall-modules uninstall-cli uninstall-units

uninstall-modules:
	@[ -n "$(KRELEASE)" ] || { echo "$@: no kernel release: $(KDIR)/include/config/kernel.release is missing; set KDIR (or KRELEASE)" >&2; exit 1; }
	rm -f $(foreach k,$(KOS),"$(DESTDIR)$(MODDIR)/$(notdir $(k))") "$(DESTDIR)$(MODPROBEDIR)/dnat.conf"
	@$(DEPMOD)

uninstall-cli:
	rm -f "$(DESTDIR)$(SBINDIR)/dnatctl" "$(DESTDIR)$(MANDIR)/man8/dnatctl.8" "$(DESTDIR)$(MANDIR)/man8/"dnatctl-*.8 \
		"$(DESTDIR)$(BASHCOMPDIR)/dnatctl" "$(DESTDIR)$(ZSHCOMPDIR)/_dnatctl"

uninstall-units:
	rm -f $(foreach u,$(UNITS),"$(DESTDIR)$(SYSTEMDUNITDIR)/$(u)") "$(DESTDIR)$(DNATLIBDIR)/host-up" \
		"$(DESTDIR)$(DOCDIR)/examples/router.env" "$(DESTDIR)$(DOCDIR)/examples/host.env" \
		"$(DESTDIR)$(DOCDIR)/examples/router.conf" "$(DESTDIR)$(DOCDIR)/examples/host.conf"
	@for d in "$(DESTDIR)$(DNATLIBDIR)" "$(DESTDIR)$(DOCDIR)/examples" "$(DESTDIR)$(DOCDIR)"; do \
		if [ -d "$$d" ]; then rmdir --ignore-fail-on-non-empty "$$d"; fi; done

# systemd-analyze verify of every unit as installed: dnatctl, the units,
# host-up and the man pages go under a scratch PREFIX (verify wants the
# ExecStart programs to exist, and checks the Documentation= pages); any
# message fails (verify exits 0 on unknown keys and bad values). Verify
# takes unknown capability names silently: systemd-analyze capability
# checks those of CapabilityBoundingSet=.
units-check: cli
	@scripts/step.sh "units-check: systemd-analyze verify $(UNITS)"
	@command -v systemd-analyze >/dev/null || { echo "units-check: systemd-analyze not installed: the systemd units are not verified"; exit 0; }; \
	caps=$$(sed -n 's/^CapabilityBoundingSet=//p' $(addprefix scripts/systemd/,$(UNITS))) && \
	systemd-analyze capability $$caps >/dev/null && \
	t=$$(mktemp -d) && trap 'rm -rf "$$t"' EXIT && \
	$(MAKE) --no-print-directory install-cli install-units DESTDIR= PREFIX=$$t/usr SBINDIR=$$t/usr/sbin \
		MANDIR=$$t/usr/share/man BASHCOMPDIR=$$t/bash ZSHCOMPDIR=$$t/zsh SYSTEMDUNITDIR=$$t/units \
		DNATLIBDIR=$$t/usr/lib/dnat DOCDIR=$$t/usr/share/doc/dnat SYSCONFDIR=/etc >/dev/null && \
	{ MANPATH=$$t/usr/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify $(addprefix $$t/units/,$(UNITS)) >$$t/log 2>&1; rc=$$?; } && \
	sed "s|$$t|SCRATCH|g" $$t/log && [ $$rc = 0 ] && [ ! -s $$t/log ]

clean:
	-@[ -d $(KDIR) ] && $(KMAKE) clean >/dev/null
	@cargo clean --quiet --manifest-path rust/dnat-core/Cargo.toml
	@cargo clean --quiet --manifest-path userspace-tool/Cargo.toml
	@for d in $(FUZZ_CRATES); do cargo clean --quiet --manifest-path $$d/Cargo.toml; done
