#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# deps.sh - installs the Debian packages sluice needs, only those missing.
#
#   scripts/deps.sh build     compiler, meson, libraries
#   scripts/deps.sh test      + the real clients the tests drive (ffmpeg, rtmpdump, GStreamer)
#   scripts/deps.sh fuzz      + clang's sanitizer and libFuzzer runtime
#   scripts/deps.sh bench     + nginx with the RTMP module, the peer we measure against
#   scripts/deps.sh browser   + Debian's chromium, the real browser the watch-page tests drive
#   scripts/deps.sh npm       npm (when no npm is on the PATH), for web/ (scripts/web.sh)
#   scripts/deps.sh deb       + the Debian packaging tools (make deb) and systemd's
#                             systemd-analyze, which checks the units (make test-deb)
#
# Called by the Makefile before it builds, so a fresh Debian 12 needs no other step.
set -eu

build="gcc clang meson ninja-build pkg-config libuv1-dev libjansson-dev libssl-dev libsqlite3-dev libcmocka-dev liburing-dev libsrtp2-dev libopus-dev libpq-dev libcurl4-openssl-dev libsrt-openssl-dev libavcodec-dev libswresample-dev"
test="$build jq openssl ffmpeg rtmpdump gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice gstreamer1.0-libav srt-tools postgresql haproxy python3 curl procps iproute2"
fuzz="$build clang llvm libclang-rt-14-dev"
bench="$test nginx-light libnginx-mod-rtmp util-linux"
browser="chromium"
npm="npm"
deb="$build dpkg-dev debhelper fakeroot systemd python3"

[ $# -gt 0 ] || set -- build
want=""
for group in "$@"; do
	case "$group" in
	build) want="$want $build" ;;
	test) want="$want $test" ;;
	fuzz) want="$want $fuzz" ;;
	bench) want="$want $bench" ;;
	browser) want="$want $browser" ;;
	deb) want="$want $deb" ;;
	npm) command -v npm >/dev/null 2>&1 || want="$want $npm" ;;
	*) echo "deps.sh: unknown group '$group' (build, test, fuzz, bench, browser, npm, deb)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# nginx must not start a server on port 80 of this machine just because it was installed.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
	$sudo chmod +x /usr/sbin/policy-rc.d
	cleanup_policy=1
fi
$sudo apt-get update -qq || true
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ "${cleanup_policy:-0}" = 1 ] && $sudo rm -f /usr/sbin/policy-rc.d
exit 0
