#!/usr/bin/env bash
# The main example: check every example model and print what podm understood of each.
set -euo pipefail
cd "$(dirname "$0")/.."
build/cli/podm check examples/*.podm
