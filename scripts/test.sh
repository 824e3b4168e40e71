#!/usr/bin/env bash
# The README's second command (and CI's): install what is missing, build, run the main example,
# run the whole test suite, then build the tests again with ASan+UBSan and run them there too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
# The include graph keeps to the floors of docs/architecture.md.
scripts/check-layers.sh
scripts/build.sh
# The size limits: no source file over 800 lines, no function over 150 outside the tests.
scripts/check-sizes.py
# Would the install list alone build this tree on a fresh machine? CI runs on a machine where
# packages once installed by hand stay installed, so the build passing here proves nothing.
closure=../shared/tools/deps-closure-check
if [ -f "$closure" ]; then
  # shellcheck disable=SC2046 # one package per word
  python3 "$closure" build $(scripts/deps.sh --list)
  echo "podm: the install list alone builds this tree (deps-closure-check)"
fi
scripts/example.sh >/dev/null
(cd build && ctest --output-on-failure -j"$(nproc)")
# The Python module's suite, on Debian's own python3 (the one apt's python3-* packages serve),
# importing the module from build/python as docs/python.md says; no cache or bytecode left behind.
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python

# Sanitizer build: Debug, no CUDA (its runtime and ASan do not mix), no benchmarks.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPODM_SANITIZE=ON -DPODM_ENABLE_CUDA=OFF \
  -DPODM_BUILD_BENCH=OFF -DPODM_BUILD_PYTHON=OFF >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$(nproc)")
