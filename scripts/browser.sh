#!/usr/bin/env bash
# The browser tests (tests/browser/) drive Debian's Chromium through Playwright's bundled driver
# (a browser download by the test tool is not possible offline). Install the chromium package
# when it is missing and this runs as root with apt-get; otherwise stop with a line naming it.
set -u
BROWSER="${LIBRARIAN_CHROMIUM:-/usr/bin/chromium}"
have() { [ -x "$BROWSER" ] && "$BROWSER" --version >/dev/null 2>&1; }
if have; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests (apt-get install chromium; ~1 min)"
  APT="apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends"
  $APT chromium fonts-dejavu-core >/dev/null 2>&1 \
    || { apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null 2>&1 \
         && $APT chromium fonts-dejavu-core >/dev/null 2>&1; }
fi
if ! have; then
  echo "error: the browser tests need Chromium at $BROWSER: apt-get install chromium" \
       "(or set LIBRARIAN_CHROMIUM to a Chromium binary)" >&2
  exit 1
fi
echo "chromium ready: $("$BROWSER" --version 2>/dev/null)"
