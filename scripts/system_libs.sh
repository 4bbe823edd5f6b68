#!/usr/bin/env bash
# PDF exports render with WeasyPrint, which needs Debian's pango libraries. Install them when
# this runs as root with apt-get; otherwise, or if that fails, stop with a line naming them.
set -u
PY="${1:-.venv/bin/python}"
have() { "$PY" -c "import weasyprint" >/dev/null 2>&1; }
PKGS="libpango-1.0-0 libpangoft2-1.0-0"
if ! have && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing WeasyPrint's system libraries: $PKGS"
  apt-get install -y -q $PKGS >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $PKGS >/dev/null 2>&1; }
fi
if ! have; then
  echo "error: PDF export (WeasyPrint) needs the pango libraries: apt-get install $PKGS" >&2
  "$PY" -c "import weasyprint" 2>&1 | tail -1 >&2
  exit 1
fi

# Narration in a language without a natural offline voice (German) uses espeak-ng's voices
# (tools/espeak_voice.py); install the program when missing, as above.
if ! command -v espeak-ng >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing espeak-ng (synthetic voices for languages without a natural offline voice)"
  apt-get install -y -q espeak-ng >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q espeak-ng >/dev/null 2>&1; }
fi
command -v espeak-ng >/dev/null 2>&1 || echo "warning: espeak-ng is missing: German narration needs it (apt-get install espeak-ng) or LIBRARIAN_ELEVENLABS_API_KEY" >&2
