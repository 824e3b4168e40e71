#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run the main example on data
# the project makes itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
scripts/example.sh
