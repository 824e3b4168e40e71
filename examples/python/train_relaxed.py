#!/usr/bin/env python3
"""Trains a relaxed PODM's params from PyTorch (docs/python.md, "PyTorch").

The model is examples/deblur_rpodm.podm: its per-stage mu MLP and its learnable DCT filters become
torch parameters of a podm.torch.Layer; the network keeps its shipped weights. Each step draws
random crops of the train400 images (../shared/data/train400 by default; synthetic scenes when
the folder is absent), blurs them with a Gaussian kernel, adds noise, runs the unrolled model
forward on podm's autodiff tape, and lets Adam update the params from the MSE to the clean crop.

    PYTHONPATH=build/python python3 examples/python/train_relaxed.py --steps 5

Prints the loss of every step and, at the end, the loss of the first batch before and after.
"""

import argparse
import pathlib
import sys

import numpy as np
import torch

import podm
import podm.torch

ROOT = pathlib.Path(__file__).resolve().parents[2]


def crops(folder, count, size, rng):
    """`count` random size x size gray crops of the images in `folder` (or synthetic scenes)."""
    files = sorted(pathlib.Path(folder).glob("*.png")) if folder else []
    out = []
    for i in range(count):
        if files:
            image = podm.read_image(str(files[rng.integers(len(files))]))
            if image.ndim == 3:
                image = 0.299 * image[..., 0] + 0.587 * image[..., 1] + 0.114 * image[..., 2]
        else:
            image = podm.synthetic_image("scene", 4 * size, 4 * size, seed=int(rng.integers(1 << 30)))
        y = rng.integers(image.shape[0] - size + 1)
        x = rng.integers(image.shape[1] - size + 1)
        out.append(np.ascontiguousarray(image[y:y + size, x:x + size], dtype=np.float32))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "examples" / "deblur_rpodm.podm"))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "train400"))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--crop", type=int, default=40)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--sigma", type=float, default=2.55, help="noise, 0-255 scale")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--same-batch", action="store_true",
                        help="train on the first batch at every step (a check that gradients flow: "
                             "its loss must fall, even from the shipped, already trained params)")
    args = parser.parse_args()

    data = args.data if pathlib.Path(args.data).is_dir() else None
    if data is None:
        print("train400 not found at %s: training on synthetic scenes" % args.data)
    rng = np.random.default_rng(args.seed)
    kernel = podm.kernel("gaussian:9:1.6")
    model = podm.compile(args.model)
    layer = podm.torch.Layer(model, shapes={"o": (args.crop, args.crop), "k": kernel.shape})
    print("params:", ", ".join("%s %s" % (n, tuple(p.shape)) for n, p in layer.named_parameters()))
    opt = torch.optim.Adam(layer.parameters(), lr=args.lr)
    sigma = args.sigma / 255

    def batch_of(clean):
        observed = [podm.degrade(c, blur=kernel, noise=args.sigma, seed=int(rng.integers(1 << 30)))
                    for c in clean]
        return torch.from_numpy(np.stack(observed)), torch.from_numpy(np.stack(clean))

    def loss_on(o, clean):
        x = layer(o=o, k=torch.from_numpy(np.array(kernel)), sigma=sigma)
        return ((x - clean) ** 2).mean()

    first = batch_of(crops(data, args.batch, args.crop, rng))
    with torch.no_grad():
        before = float(loss_on(*first))
    for step in range(1, args.steps + 1):
        fresh = step > 1 and not args.same_batch
        o, clean = batch_of(crops(data, args.batch, args.crop, rng)) if fresh else first
        opt.zero_grad()
        loss = loss_on(o, clean)
        loss.backward()
        opt.step()
        print("step %d: loss %.6f" % (step, float(loss)))
    with torch.no_grad():
        after = float(loss_on(*first))
    print("first batch: loss %.6f before, %.6f after training (%s)"
          % (before, after, "fell" if after < before else "did not fall"))
    return 0 if after < before else 1


if __name__ == "__main__":
    sys.exit(main())
