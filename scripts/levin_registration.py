#!/usr/bin/python3
"""How far Levin et al.'s 32 captured photographs are from their ground truth blurred by their kernel.

For each capture o (scene i, kernel j) it forms v = the valid part of gt_i correlated with k_j (the
kernels are correlation kernels, docs/results.md), then finds the shift of v that best matches o
on the window without a 22-pixel border: first whole pixels within +-7, then quarter pixels around
that (v sampled bilinearly, as `podm eval --align-step` samples a result). It prints the RMS of
o - v (0-255 scale) at both, per capture and on average: what is left at the sub-pixel shift is the
captures' noise and kernel error, to compare with the sigma = 2.55 of the synthetic benchmark.

    /usr/bin/python3 scripts/levin_registration.py [../shared/data/levin] [--build build]

Needs numpy and podm's Python module (built in BUILD/python) to read the images.
"""

import argparse
import pathlib
import sys

import numpy as np


def valid_correlation(image, kernel):
    """sum_{a,b} image[y + a, x + b] kernel[a, b] over the positions where the kernel fits."""
    kh, kw = kernel.shape
    windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw))
    return np.einsum("yxab,ab->yx", windows, kernel)


def shifted(v, dy, dx, top, left, h, w):
    """v at (top + y + dy, left + x + dx) for the h x w window, bilinear between neighbours."""
    fy, fx = int(np.floor(dy)), int(np.floor(dx))
    ty, tx = dy - fy, dx - fx
    y0, x0 = top + fy, left + fx
    a = v[y0:y0 + h + 1, x0:x0 + w + 1]
    rows = (1 - ty) * a[:-1] + ty * a[1:]
    return (1 - tx) * rows[:, :-1] + tx * rows[:, 1:]


def best_shift(o, v, offset, shifts_y, shifts_x, border=22):
    h, w = o.shape[0] - 2 * border, o.shape[1] - 2 * border
    target = o[border:border + h, border:border + w]
    best = (np.inf, 0.0, 0.0)
    for dy in shifts_y:
        for dx in shifts_x:
            moved = shifted(v, dy, dx, border - offset, border - offset, h, w)
            rms = np.sqrt(np.mean((target - moved) ** 2))
            if rms < best[0]:
                best = (rms, dy, dx)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("levin", nargs="?", default="../shared/data/levin")
    parser.add_argument("--build", default="build")
    args = parser.parse_args()
    sys.path.insert(0, str(pathlib.Path(args.build) / "python"))
    import podm

    levin = pathlib.Path(args.levin)
    whole, sub = [], []
    for i in range(1, 5):
        gt = np.asarray(podm.read_image(str(levin / "gt" / f"im{i}.png")), np.float64).squeeze()
        for j in range(1, 9):
            k = np.loadtxt(levin / "kernels" / f"kernel{j}.txt")
            k /= k.sum()
            o = np.asarray(podm.read_image(str(levin / "blurred" / f"im{i}_kernel{j}_img.png")),
                           np.float64).squeeze()
            v = valid_correlation(gt, k)
            offset = (o.shape[0] - v.shape[0]) // 2  # where v's first pixel sits in o
            r1 = best_shift(o, v, offset, range(-7, 8), range(-7, 8))
            quarter = np.arange(-1, 1.01, 0.25)
            r2 = best_shift(o, v, offset, r1[1] + quarter, r1[2] + quarter)
            whole.append(r1[0] * 255)
            sub.append(r2[0] * 255)
            print(f"im{i} kernel{j}: whole-pixel shift ({r1[1]:+d},{r1[2]:+d}) RMS {r1[0] * 255:.2f}; "
                  f"sub-pixel ({r2[1]:+.2f},{r2[2]:+.2f}) RMS {r2[0] * 255:.2f}")
    print(f"mean RMS of o - crop(k * gt), 0-255: {np.mean(whole):.2f} at the best whole-pixel "
          f"shift, {np.mean(sub):.2f} at the best quarter-pixel shift")


if __name__ == "__main__":
    main()
