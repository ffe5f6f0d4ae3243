#!/usr/bin/env bash
# Tools of ./dev bench: wrk from Debian as the load generator (without it the suite falls
# back to bench/pyload.py, a multi-threaded Python client) and bench/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo -n)
if ! command -v wrk >/dev/null; then
  if command -v apt-get >/dev/null && { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq wrk; } >/dev/null 2>&1; then
    echo "bench: installed wrk" >&2
  else
    echo "bench: could not install wrk (apt-get); the Python load generator is used instead" >&2
  fi
fi
# tcpdump counts what each server sends its broker (bench/wire.py); without it those rows are left out.
if ! command -v tcpdump >/dev/null; then
  if command -v apt-get >/dev/null && "${as_root[@]}" apt-get install -y -qq tcpdump >/dev/null 2>&1; then
    echo "bench: installed tcpdump" >&2
  else
    echo "bench: could not install tcpdump (apt-get); the rows counted on the wire are left out" >&2
  fi
fi
stamp=.venv/.bench-installed
if [ ! -f "$stamp" ] || [ bench/requirements.txt -nt "$stamp" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
  touch "$stamp"
fi
