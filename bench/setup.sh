#!/usr/bin/env bash
# Tools of ./dev bench: wrk from Debian as the load generator (without it the suite falls
# back to bench/pyload.py, a multi-threaded Python client) and bench/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  as_root=()
  [ "$(id -u)" = 0 ] || as_root=(sudo -n)
  if command -v apt-get >/dev/null && { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq wrk; } >/dev/null 2>&1; then
    echo "bench: installed wrk" >&2
  else
    echo "bench: could not install wrk (apt-get); the Python load generator is used instead" >&2
  fi
fi
stamp=.venv/.bench-installed
if [ ! -f "$stamp" ] || [ bench/requirements.txt -nt "$stamp" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
  touch "$stamp"
fi
