# SPDX-License-Identifier: Apache-2.0
# Makefile - the front door: builds with meson/ninja, runs the system and its tests.
#
#   make              build build/sluice
#   make run          build, then start sluice on this machine with its defaults
#   make test         every test: unit, end-to-end (real ffmpeg/rtmpdump/GStreamer
#                     clients), fuzz corpus replay
#   make test-sanitize  the unit and end-to-end suites again under ASan+UBSan
#   make fuzz         long libFuzzer campaigns (FUZZ_SECONDS per target)
#   make bench        the side-by-side benchmark against nginx-rtmp
#   make bench-hls    how far behind live Chromium plays HLS and LL-HLS
#   make bench-webrtc glass-to-glass latency in Chromium (WebRTC against LL-HLS) and
#                     WebRTC viewers per core against RTMP viewers
#   make bench-ha     the manager tier: heartbeats, routing through haproxy, failover
#   make install      the binary, man pages, /etc/sluice/*.conf and the systemd units
#                     (PREFIX=/usr/local, DESTDIR= for a staging root)
#   make deb          the Debian package, into build-deb/
#
# Every target installs missing Debian packages first (scripts/deps.sh).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
WERROR     ?= 0
E2E_JOBS   ?= 2
FUZZ_SECONDS ?= 600
PREFIX     ?= /usr/local
DESTDIR    ?=

ifeq ($(WERROR),1)
WERROR_OPT := -Dwerror=true
endif

.PHONY: all build run test test-unit test-e2e test-sanitize fuzz-build fuzz-replay \
        fuzz-smoke fuzz bench bench-hls bench-webrtc bench-ha deps clean install deb

all: build

deps:
	@scripts/deps.sh build
	@scripts/web.sh

build: deps
	@test -f $(BUILD)/build.ninja || meson setup $(BUILD) $(WERROR_OPT)
	@ninja -C $(BUILD)

run: build
	@scripts/run-local.sh $(BUILD)/sluice

test: test-unit test-e2e fuzz-replay

test-unit: build
	@scripts/deps.sh test
	meson test -C $(BUILD) --suite unit --print-errorlogs

test-e2e: build
	@scripts/deps.sh test browser deb
	python3 tests/e2e/run.py --bin $(BUILD)/sluice --jobs $(E2E_JOBS)

# Sanitized build with clang: also proves the tree builds warning-free with clang.
$(ASAN_BUILD)/build.ninja:
	CC=clang meson setup $(ASAN_BUILD) $(WERROR_OPT) -Db_sanitize=address,undefined \
	   -Db_lundef=false -Dbuildtype=debug -Dc_args=-fno-sanitize-recover=undefined

test-sanitize: deps
	@scripts/deps.sh test fuzz browser
	@$(MAKE) --no-print-directory $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  meson test -C $(ASAN_BUILD) --suite unit --print-errorlogs
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  python3 tests/e2e/run.py --bin $(ASAN_BUILD)/sluice --jobs $(E2E_JOBS) --sanitized

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=disabled -Db_lundef=false \
	   -Db_sanitize=address,undefined -Dbuildtype=debugoptimized \
	   -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined'

fuzz-build: deps
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BUILD)/build.ninja
	@ninja -C $(FUZZ_BUILD)

# Every corpus file (seeds and every crash ever found) through its target, once.
fuzz-replay: fuzz-build
	@scripts/fuzz.sh replay $(FUZZ_BUILD)

# A short run of each target: what CI does beyond the replay.
fuzz-smoke: fuzz-build
	@scripts/fuzz.sh run $(FUZZ_BUILD) 20

fuzz: fuzz-build
	@scripts/fuzz.sh run $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	@scripts/deps.sh bench
	@bench/run.sh quick

bench-ha: build
	@bench/run-ha.sh quick

bench-hls: build
	@scripts/deps.sh test browser
	@python3 bench/hls_latency.py

bench-webrtc: build
	@scripts/deps.sh test browser bench
	@python3 bench/webrtc_latency.py
	@bench/run.sh webrtc

# The configs go to /etc/sluice whatever the prefix (where operators look for them).
install: build
	@meson configure $(BUILD) -Dprefix=$(PREFIX) -Dsysconfdir=/etc >/dev/null
	DESTDIR="$(if $(DESTDIR),$(abspath $(DESTDIR)))" meson install -C $(BUILD) --quiet

deb: deps
	@scripts/deps.sh deb
	@scripts/deb.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-deb
