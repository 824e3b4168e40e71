#!/usr/bin/env bash
# Checks the include graph against the floors of docs/architecture.md: a file may include headers
# of its own unit or of a lower floor, never of a higher floor or of another unit on its own floor;
# and the libraries that must not leak (FFTW, oneDNN, CUDA) are included only where they live
# (CUDA headers also inside `#ifdef __CUDACC__`, which only nvcc compiles).
# Prints each offending include as FILE:LINE: message and exits 1 when there is one. Run by
# scripts/test.sh; usage: scripts/check-layers.sh [REPO_ROOT]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# Floor of each unit, bottom-up. A path belongs to the longest unit that prefixes it.
FLOORS='
0 ir
0 frontend/ast
1 frontend/parse
1 frontend/sema
1 numerics
2 runtime
3 runtime/cpu
3 runtime/cuda
3 runtime/io
3 runtime/autodiff
4 stdlib/prox
4 stdlib/linop
4 stdlib/nn
5 compiler/passes
6 compiler/lower
7 train
8 engine
9 cli
9 bench
9 python
9 examples
'

# Where each library that must stay behind our own interfaces may be included (system includes).
# bench/ may include them for its hand-written baselines: the FFTW and oneDNN hand loops of bench/,
# and in bench/cuda/ the GPU benchmarks' raw cuFFT and cuDNN loops (the CUDA runtime with them).
PRIVATE_LIBS='
fftw3 numerics/ bench/
dnnl stdlib/nn/ bench/
oneapi/dnnl stdlib/nn/ bench/
cuda runtime/cuda/ bench/cuda/
cufft runtime/cuda/ bench/cuda/
cudnn runtime/cuda/ bench/cuda/
cublas runtime/cuda/ bench/cuda/
'

files=$(git ls-files -- '*.h' '*.cpp' '*.cu' '*.cuh' | grep -v '^tests/' || true)

awk -v floors="$FLOORS" -v libs="$PRIVATE_LIBS" '
  function unitOf(path,   best, u) {
    best = ""
    for (u in floor)
      if ((path == u || index(path, u "/") == 1) && length(u) > length(best))
        best = u
    return best
  }
  BEGIN {
    n = split(floors, lines, "\n")
    for (i = 1; i <= n; ++i)
      if (split(lines[i], f, " ") == 2)
        floor[f[2]] = f[1]
    n = split(libs, lines, "\n")
    for (i = 1; i <= n; ++i) {
      k = split(lines[i], f, " ")
      if (k >= 2)
        for (j = 2; j <= k; ++j)
          allowed[f[1]] = allowed[f[1]] " " f[j]
    }
    bad = 0
  }
  FNR == 1 { from = unitOf(FILENAME); depth = 0; cudaDepth = 0 }
  # Inside `#ifdef __CUDACC__` a shared header may include CUDA headers: only nvcc sees them.
  /^[ \t]*#[ \t]*if/ {
    ++depth
    if ($0 ~ /__CUDACC__/ && $0 !~ /!/)
      cudaDepth = depth
  }
  /^[ \t]*#[ \t]*else/ { if (depth == cudaDepth) cudaDepth = 0 }
  /^[ \t]*#[ \t]*endif/ { if (depth == cudaDepth) cudaDepth = 0; --depth }
  /^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0
    sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
    if (index(inc, "/") == 0 || from == "")
      next # same folder, or generated (the ANTLR parser)
    to = unitOf(inc)
    if (to == "" || to == from)
      next
    if (floor[to] > floor[from]) {
      printf "%s:%d: %s (floor %d) includes %s of %s (floor %d): a lower floor reaches up\n",
             FILENAME, FNR, from, floor[from], inc, to, floor[to]
      bad = 1
    } else if (floor[to] == floor[from]) {
      printf "%s:%d: %s includes %s of %s, a sibling on the same floor (%d)\n",
             FILENAME, FNR, from, inc, to, floor[to]
      bad = 1
    }
  }
  /^[ \t]*#[ \t]*include[ \t]*</ {
    inc = $0
    sub(/^[^<]*</, "", inc); sub(/>.*$/, "", inc)
    for (lib in allowed) {
      if (cudaDepth > 0 && lib ~ /^cu/)
        continue
      if (index(inc, lib) != 1)
        continue
      rest = substr(inc, length(lib) + 1, 1)
      if (rest != "" && rest != "/" && rest != "." && rest != "_" && rest != "3")
        continue
      ok = 0
      k = split(allowed[lib], dirs, " ")
      for (j = 1; j <= k; ++j)
        if (index(FILENAME, dirs[j]) == 1)
          ok = 1
      if (!ok) {
        printf "%s:%d: <%s> is included outside%s\n", FILENAME, FNR, inc, allowed[lib]
        bad = 1
      }
    }
  }
  END { exit bad }
' $files && echo "check-layers: every include respects the floors ($(echo "$files" | wc -l) files)"
