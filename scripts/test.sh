#!/usr/bin/env bash
# The whole test suite: the Rust tests (`cargo test`, arguments passed on), then the Python
# package built in place into a virtual environment and its pytest suite.
#
# The environment: $FPGEN_PYTHON when set (a venv's python: CI's, with xarray and zarr for
# the dataset checks too), else .venv/ made here from python3. The package and the tests
# need numpy, xarray, maturin and pytest there; they are installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test "$@"

python="${FPGEN_PYTHON:-}"
if [ -z "$python" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  python="$PWD/.venv/bin/python"
fi
if ! "$python" -c "import numpy, xarray, maturin, pytest" 2>/dev/null; then
  "$python" -m pip install -q numpy xarray maturin pytest
fi
prefix="$("$python" -c 'import sys; print(sys.prefix)')"
# the extension in the dev profile, beside the CLI cargo test just built (shared target/)
(cd python && VIRTUAL_ENV="$prefix" PATH="$prefix/bin:$PATH" "$python" -m maturin develop --quiet)
"$python" -m pytest -q python/tests
