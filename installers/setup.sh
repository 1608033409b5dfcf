#!/bin/sh
# Sets up everything Nido needs in this checkout, on first use and after changes:
# Debian packages (installers/debian-deps.sh), a virtual environment in .venv, and Nido
# itself installed into it (editable). Idempotent and quick when nothing changed.
#
# Usage: installers/setup.sh [--tests]     (--tests adds what the test suite needs)
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

with_tests=""
if [ "${1:-}" = "--tests" ]; then
    with_tests="yes"
fi

if [ -n "$with_tests" ]; then
    installers/debian-deps.sh
else
    installers/debian-deps.sh --runtime-only
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "nido: Python 3.11 or newer is needed ($python is $("$python" --version 2>&1))." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "nido: creating .venv"
    "$python" -m venv .venv
fi

extras=""
[ -n "$with_tests" ] && extras="[test]"
stamp=".venv/.nido-installed$( [ -n "$with_tests" ] && echo -tests)"
want=$(cat pyproject.toml installers/setup.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "nido: installing Python packages into .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".$extras"
    echo "$want" > "$stamp"
fi
