#!/usr/bin/env bash
# The headless browser the status-page test (tests/e2e/serve.rs) renders the page in: Chromium's
# headless shell from Debian's packages. Already on PATH: nothing to do. Otherwise installed with
# apt-get (as root, or through sudo); anything else is an error that says what to install, never
# a silently skipped test.
set -euo pipefail

PACKAGE=chromium-headless-shell

if command -v "$PACKAGE" >/dev/null 2>&1; then
    echo "browser: $("$PACKAGE" --version 2>/dev/null || echo "$PACKAGE") at $(command -v "$PACKAGE")"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "setup-browser: $PACKAGE is not installed and this user cannot install packages;" >&2
    echo "  install it (Debian/Ubuntu: apt-get install --no-install-recommends $PACKAGE) and run the tests again." >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-browser: no apt-get here; install Chromium's headless shell ($PACKAGE) by hand." >&2
    exit 1
fi

echo "browser: installing $PACKAGE from the Debian packages"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: fetch them only when the install cannot find it.
if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "$PACKAGE"; then
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "$PACKAGE"
fi
echo "browser: $("$PACKAGE" --version 2>/dev/null || echo "$PACKAGE") at $(command -v "$PACKAGE")"
