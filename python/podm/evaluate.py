"""podm.eval: a model scored on a folder of ground truths, as `podm eval` scores it.

Each ground truth (times each kernel) is read, cropped to a multiple of the scale, quantized as
`podm degrade --gt-out` writes it, degraded and quantized as `podm degrade -o` writes it, restored
with the observation's luma and scored on Y with the border shave of docs/io.md; the figures equal
the command's (tests/python/test_eval.py compares them).
"""

import math
import pathlib
import time

import numpy as _np

from . import _podm

IMAGE_SUFFIXES = {".png", ".tif", ".tiff", ".bmp", ".jpg", ".jpeg", ".npy"}


def _ground_truths(gt):
    if isinstance(gt, (str, pathlib.Path)):
        folder = pathlib.Path(gt)
        if not folder.is_dir():
            raise ValueError("gt %s: not a folder" % folder)
        files = sorted(p for p in folder.iterdir()
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError("gt %s: holds no image (PNG, TIFF, BMP, JPEG or .npy)" % folder)
        return files
    files = [pathlib.Path(p) for p in gt]
    if not files:
        raise ValueError("gt: no image given (a folder or a list of files)")
    return files


def _kernel_list(blur, kernels, kernel_as):
    """[(name, kernel array or None)]: `blur` (a spec or an array, name "") or `kernels` ({name:
    array or spec}); correlation kernels flipped into convolution kernels, as the command does."""
    if blur is not None and kernels is not None:
        raise ValueError("give blur or kernels, not both")
    if kernel_as not in ("convolution", "correlation"):
        raise ValueError("kernel_as must be 'convolution' or 'correlation', got %r" % (kernel_as,))
    listed = [("", blur)] if blur is not None else list((kernels or {"": None}).items())
    out = []
    for name, k in listed:
        if k is None:
            out.append((name, None))
            continue
        k = _podm.kernel(k) if isinstance(k, str) else _np.ascontiguousarray(k, _np.float32)
        if kernel_as == "correlation":
            k = _np.ascontiguousarray(k[::-1, ::-1])
        out.append((name, k))
    return out


def _roles(model, obs, fixed):
    images = [d["name"] for d in model.inputs
              if d["type"] == "image" and d["name"] != "ref" and d["name"] not in fixed]
    kernels = [d["name"] for d in model.inputs if d["type"] == "kernel" and d["name"] not in fixed]
    if obs is not None:
        if obs not in images:
            raise ValueError("obs %r: the model has no image input of that name left to bind" % obs)
        images = [obs]
    if len(images) != 1:
        raise ValueError("model %s: %s" % (model.name, "the model has no image input for the "
                                           "observation" if not images else "the model has "
                                           "several image inputs; say which is the observation "
                                           "with obs=NAME"))
    return images[0], kernels


def evaluate(model, gt, *, blur=None, kernels=None, kernel_as="convolution",
             boundary="periodic", decimate=0, bicubic=0, poisson=0.0, noise=0.0, seed=0, bits=8,
             shave=None, align=0, align_step=1.0, obs=None, inputs=None, device="cpu"):
    """Scores ``model`` (a podm.Model or a model file) on the images of folder ``gt`` (or a list
    of files). Degradation as ``podm.degrade`` (``blur`` a spec or array, or ``kernels`` a dict
    of them, one row per image and kernel); ``inputs`` fixes other inputs for every image;
    ``shave``/``align``/``align_step``/``device`` as ``podm eval``'s options of those names.
    Returns ``{"rows": [...], "psnr": mean, "ssim": mean}``; each row has image, kernel, psnr,
    ssim, stages, shave, shift, seconds. A file that cannot be read raises ValueError naming it."""
    from . import Model, compile as compile_model
    if not isinstance(model, Model):
        model = compile_model(model)
    model._use_device(device)
    fixed = dict(inputs or {})
    observation, kernel_inputs = _roles(model, obs, fixed)
    cases = _kernel_list(blur, kernels, kernel_as)
    if len(kernel_inputs) > 1 and cases[0][1] is not None:
        raise ValueError("model %s: several kernel inputs; fix all but one with inputs=" %
                         model.name)
    if kernel_inputs and cases[0][1] is None:
        raise ValueError("model %s: the input '%s' is a kernel: give blur= or kernels="
                         % (model.name, kernel_inputs[0]))
    scale = bicubic or decimate or 1
    rows = []
    for path in _ground_truths(gt):
        for name, k in cases:
            start = time.perf_counter()
            truth = _podm.read_image(str(path))
            if scale > 1:
                truth = _podm.modcrop(truth, scale)
            truth = _podm.quantize(truth, bits)
            observed = _podm.quantize(
                _podm.degrade(truth, blur=k, boundary=boundary, decimate=decimate,
                              bicubic=bicubic, poisson=poisson, noise=noise, seed=seed), bits)
            given = dict(fixed)
            given[observation] = observed
            if kernel_inputs and k is not None:
                given[kernel_inputs[0]] = k
            scored = model._engine._score(given, truth, -1 if shave is None else shave,
                                          align, align_step, device)
            rows.append({"image": path.name, "kernel": name, "psnr": scored["psnr"],
                         "ssim": scored["ssim"], "stages": scored["stages"],
                         "shave": scored["shave"], "shift": scored["shift"], "seconds": time.perf_counter() - start})
    mean = lambda key: math.fsum(r[key] for r in rows) / len(rows)  # noqa: E731
    return {"rows": rows, "psnr": mean("psnr"), "ssim": mean("ssim")}
