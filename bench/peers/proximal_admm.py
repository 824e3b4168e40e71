#!/usr/bin/python3
# ProxImaL's ADMM (numpy backend) on the problems of issue #13, for bench/peer_admm_bench.sh:
#   min 0.5 ||k * x - b||^2 + lambda R(x) + nonneg(x),  R = isotropic TV (group l1 of ProxImaL's
#   Neumann gradient) or l1,
# 100 iterations from x = b, rho = 1 (ProxImaL's default), periodic convolution. Prints, per
# problem, the wall time of solve() and the objective of its result by the evaluator below (the
# same one peer_admm_bench.sh applies to podm's outputs), and writes the result as .npy.
# ProxImaL is not part of podm: pass the path of a checkout (github comp-imaging/ProxImaL); it
# needs Debian's python3-numpy, python3-scipy and python3-numexpr (OpenCV, imported by ProxImaL's
# image helpers but not used here, may be replaced by an empty module on PYTHONPATH).
#   proximal_admm.py PROXIMAL_DIR b.npy k.npy OUT_DIR
import sys
import time

import numpy as np


def objective(x, b, k, lam, prior):
    """0.5 ||k * x - b||^2 + lam R(x), periodic convolution via the FFT (k centred at the origin)."""
    otf = np.zeros_like(x)
    kh, kw = k.shape
    otf[:kh, :kw] = k
    otf = np.roll(otf, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    kx = np.real(np.fft.ifft2(np.fft.fft2(otf) * np.fft.fft2(x)))
    fid = 0.5 * np.sum((kx - b) ** 2, dtype=np.float64)
    if prior == "tv":
        dx = np.zeros_like(x)
        dy = np.zeros_like(x)
        dx[:, :-1] = x[:, 1:] - x[:, :-1]
        dy[:-1, :] = x[1:, :] - x[:-1, :]
        reg = np.sum(np.sqrt(dx.astype(np.float64) ** 2 + dy.astype(np.float64) ** 2))
    else:
        reg = np.sum(np.abs(x), dtype=np.float64)
    return fid + lam * reg


def main():
    proximal_dir, b_path, k_path, out_dir = sys.argv[1:5]
    sys.path.insert(0, proximal_dir)
    import proximal as px

    b = np.load(b_path).astype(np.float32).squeeze()
    k = np.load(k_path).astype(np.float32).squeeze()
    for prior, lam in (("tv", 2e-3), ("l1", 1e-3)):
        x = px.Variable(b.shape)
        fid = px.sum_squares(px.conv(k, x) - b, alpha=0.5)
        if prior == "tv":
            reg = px.group_norm1(px.grad(x), [2], alpha=lam)
        else:
            reg = px.norm1(x, alpha=lam)
        prob = px.Problem([fid, reg, px.nonneg(x)], implem="numpy")
        t0 = time.perf_counter()
        prob.solve(solver="admm", max_iters=100, x0=b.copy(), eps_abs=1e-12, eps_rel=1e-12)
        seconds = time.perf_counter() - t0
        xv = np.asarray(x.value, dtype=np.float32)
        np.save(f"{out_dir}/proximal_{prior}.npy", xv)
        print(f"{prior} proximal_admm_seconds {seconds:.3f} objective {objective(xv, b, k, lam, prior):.6f} "
              f"min {xv.min():.3g}")


if __name__ == "__main__":
    main()
