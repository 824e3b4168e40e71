#!/usr/bin/env python3
"""Compares two podm runs of scripts/gpu-check.sh: BASE.npy and BASE.csv of each (the result and
the per-stage trace). The results must agree to 1e-4 relative (to the largest value) and every
stage's monitors to 1e-4 relative. Pure Python (no numpy), so it runs wherever python3 does.

usage: gpu_compare.py OUT/name.cpu OUT/name.cuda   -> prints 'max rel diff result R, monitors M'
"""
import ast
import csv
import struct
import sys

TOL = 1e-4


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise SystemExit(f"{path}: not a .npy file")
    major = data[6]
    hlen = struct.unpack("<H" if major == 1 else "<I", data[8:10] if major == 1 else data[8:12])[0]
    start = (10 if major == 1 else 12) + hlen
    header = ast.literal_eval(data[start - hlen:start].decode("latin1"))
    if header["descr"] not in ("<f4", "|f4"):
        raise SystemExit(f"{path}: dtype {header['descr']}, expected float32")
    n = (len(data) - start) // 4
    return struct.unpack(f"<{n}f", data[start:start + 4 * n])


def read_trace(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    a, b = sys.argv[1], sys.argv[2]
    x, y = read_npy(a + ".npy"), read_npy(b + ".npy")
    if len(x) != len(y):
        raise SystemExit(f"results differ in size: {len(x)} vs {len(y)}")
    scale = max(1e-12, max(abs(v) for v in x))
    result = max(abs(p - q) for p, q in zip(x, y)) / scale
    ta, tb = read_trace(a + ".csv"), read_trace(b + ".csv")
    if len(ta) != len(tb):
        raise SystemExit(f"stage counts differ: {len(ta)} vs {len(tb)}")
    monitors = 0.0
    worst = ""
    for row_a, row_b in zip(ta, tb):
        for key, va in row_a.items():
            if key in ("time", "best", "stage") or va in ("", None) or row_b.get(key) in ("", None):
                continue
            p, q = float(va), float(row_b[key])
            d = abs(p - q) / max(abs(p), 1e-6)
            if d > monitors:
                monitors, worst = d, f"{key} at stage {row_a.get('stage')}"
    print(f"max rel diff result {result:.2e}, monitors {monitors:.2e}" + (f" ({worst})" if worst else ""))
    if result > TOL or monitors > TOL:
        sys.exit(1)


if __name__ == "__main__":
    main()
