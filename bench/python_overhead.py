#!/usr/bin/env python3
"""The Python module's overhead: Model.run on a 64 x 64 FISTA model with 10 stages against the same
compiled graph run from C++ in the same process (the executor called in a loop on the same bound
inputs), measured in the same run. Prints both per-call times and their ratio (issue 14: <= 1.1).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--size 64] [--calls 2000]
"""

import argparse
import time

import numpy as np

import podm

MODEL = """model fista_deblur
input o : image
input k : kernel
op K = conv(k, boundary = "periodic")
var x : image = o
f(x) = 0.5 * || K x - o ||^2
g(x) = 1e-3 * l1(x) + box(x, lo = 0, hi = 1)
stages 10 fista { gamma = 1 / L(f) }
monitor phi, rel_change
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    clean = podm.synthetic_image("scene", args.size, args.size)
    k = podm.kernel("gaussian:9:1.6")
    o = podm.degrade(clean, blur=k, noise=2, seed=1)
    m = podm.compile(source=MODEL)
    m.run(o=o, k=k)  # compile and warm up
    python, native = [], []
    for _ in range(args.rounds):  # interleaved, best of each
        start = time.perf_counter()
        for _ in range(args.calls):
            m.run(o=o, k=k)
        python.append((time.perf_counter() - start) / args.calls)
        native.append(m._engine._native_seconds({"o": o, "k": k}, args.calls) / args.calls)
    p, n = min(python), min(native)
    print("%dx%d FISTA, 10 stages, with phi and rel_change: Model.run %.1f us/call, the same "
          "graph from C++ %.1f us/call: ratio %.3f" % (args.size, args.size, p * 1e6, n * 1e6,
                                                      p / n))


if __name__ == "__main__":
    main()
