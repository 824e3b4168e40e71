#!/usr/bin/env bash
# Installs the Debian packages podm builds with, when any is missing. Idempotent and quiet when
# everything is present; called by quickstart.sh and test.sh. `--list` prints the list, one
# package per line, for ../shared/tools/deps-closure-check.
#
# Every package the build touches is named here, even when another package merely recommends it:
# apt runs with --no-install-recommends, so a Recommends is never installed on a fresh machine.
# (ocl-icd-opencl-dev: Debian's oneDNN CMake config calls find_package(OpenCL), and libdnnl-dev
# only recommends it.)
set -euo pipefail

PODM_PACKAGES=(
  cmake g++ make pkg-config
  antlr4 libantlr4-runtime-dev default-jre-headless
  libdnnl-dev ocl-icd-opencl-dev doctest-dev libfftw3-dev
  libpng-dev libtiff-dev libjpeg-dev libhdf5-dev
  pybind11-dev python3-dev python3-numpy python3-pytest python3-torch
)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${PODM_PACKAGES[@]}"
  exit 0
fi

missing=()
for pkg in "${PODM_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "podm: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
