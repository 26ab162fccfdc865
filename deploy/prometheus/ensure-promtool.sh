#!/bin/sh
# Print the path of a working promtool, installing it first when it is missing.
#
# promtool comes from the operating system's `prometheus` package (Debian and Ubuntu ship it as
# /usr/bin/promtool). Installing that package with apt-get would also start a Prometheus server
# (its maintainer script runs `invoke-rc.d prometheus start`, which listens on every interface
# on machines without systemd), so only the promtool binary is taken from the package:
#   apt-get download prometheus; dpkg-deb -x; copy usr/bin/promtool to /usr/local/bin.
# Nothing else of the package is installed, no user is created and no service starts.
#
#   PROMTOOL=/path/to/promtool   use that one instead (it must run)
#   PROMTOOL_DIR=/some/dir       where to put the extracted binary (default /usr/local/bin)
set -eu

found() {
    "$1" --version >/dev/null 2>&1 && { echo "$1"; exit 0; }
}

if [ -n "${PROMTOOL:-}" ]; then
    found "$PROMTOOL"
    echo "PROMTOOL=$PROMTOOL does not run" >&2
    exit 1
fi
for candidate in "$(command -v promtool 2>/dev/null || true)" /usr/bin/promtool \
    "${PROMTOOL_DIR:-/usr/local/bin}/promtool"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && found "$candidate"
done

if [ "$(id -u)" != 0 ]; then
    cat >&2 <<'MESSAGE'
promtool is missing, and only root can install it here.
Install it once, e.g. as root: deploy/prometheus/ensure-promtool.sh
(it takes promtool from the Debian package `prometheus` without starting a server),
or put a promtool on PATH, or set PROMTOOL=/path/to/promtool.
MESSAGE
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    echo "promtool is missing and this is not a Debian-like system (no apt-get, dpkg-deb);" \
        "install promtool from your distribution's prometheus package" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's download sandbox user must be able to write here.
chmod 0755 "$work"
chown _apt "$work" 2>/dev/null || true
if [ -z "$(apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v none)" ]; then
    echo "ensure-promtool: refreshing the package lists" >&2
    apt-get update -qq >&2
fi
(cd "$work" && apt-get download -qq prometheus >&2)
deb="$(ls "$work"/prometheus_*.deb)"
dpkg-deb -x "$deb" "$work/root"
target="${PROMTOOL_DIR:-/usr/local/bin}"
mkdir -p "$target"
install -m 0755 "$work/root/usr/bin/promtool" "$target/promtool"
echo "ensure-promtool: installed promtool from $(basename "$deb") into $target" >&2
found "$target/promtool"
echo "promtool was installed into $target but does not run" >&2
exit 1
