"""podm from Python: compile a model file, run it on NumPy arrays, and the CLI's image tools.

    import podm
    m = podm.compile("examples/deblur_podm.podm")
    x, trace = m.run(o=observation, k=kernel)
    podm.psnr(x, clean)

See docs/python.md. The engine is the C++ one the ``podm`` command runs (``podm._podm``); this
package shapes its calls the way Python users expect (keyword inputs, batches, errors).
"""

import os as _os
import sys as _sys
import warnings as _warnings

import numpy as _np

# Prox plugins resolve podm's symbols against the process (docs/extending.md), as against the podm
# command: the extension is loaded with its symbols global so that a plugin loaded later finds them.
_flags = _sys.getdlopenflags()
_sys.setdlopenflags(_flags | _os.RTLD_GLOBAL)
try:
    from . import _podm
finally:
    _sys.setdlopenflags(_flags)
from .errors import ModelError
from .evaluate import evaluate

__all__ = [
    "ModelError", "Model", "compile", "read_image", "write_image", "degrade", "modcrop",
    "kernel", "synthetic_image", "psnr", "ssim", "prox", "prox_names", "prox_catalogue", "check_prox",
    "load_plugin", "quantize", "eval", "evaluate",
]

__version__ = _podm.__version__
read_image = _podm.read_image
write_image = _podm.write_image
degrade = _podm.degrade
modcrop = _podm.modcrop
kernel = _podm.kernel
synthetic_image = _podm.synthetic_image
psnr = _podm.psnr
ssim = _podm.ssim
prox_catalogue = _podm.prox_catalogue
load_plugin = _podm.load_plugin
quantize = _podm.quantize
eval = evaluate  # noqa: A001  (podm.eval mirrors `podm eval`; the builtin is untouched outside)


def prox_names():
    """The names of every registered prox (built-in and loaded plugins), sorted."""
    return [p["name"] for p in _podm.prox_catalogue()]


def prox(name, x, gamma=1.0, **args):
    """argmin_u g(u) + ||u - x||^2 / (2 gamma) for the registered prox ``name`` with ``args``."""
    return _podm._prox(name, x, float(gamma), args)


def check_prox(name, **args):
    """The property checks of ``podm test-prox`` (and of the test suite) on a registered prox:
    returns ``(passed, report)``, the report being the command's text."""
    return _podm._check_prox(name, args)


class Model:
    """A compiled model (``podm.compile``). Graphs are built per input shape and cached."""

    def __init__(self, engine):
        self._engine = engine
        self._inputs = engine.inputs
        self._images = {d["name"] for d in self._inputs if d["type"] == "image"}
        self._noted = set()
        self.last_device = None

    def _use_device(self, device):
        """The device that runs for ``device`` ("cpu", "cuda", "auto"); warns once when "auto"
        stays on the CPU, and says why. ValueError for another name; RuntimeError when "cuda"
        finds no GPU it can use."""
        used, note = self._engine._device(device)
        if note and device not in self._noted:
            self._noted.add(device)
            _warnings.warn(note, RuntimeWarning, stacklevel=3)
        self.last_device = used
        return used

    @property
    def name(self):
        return self._engine.name

    @property
    def inputs(self):
        """The model's inputs: dicts with name, type (image, kernel, scalar), optional, default."""
        return [dict(d) for d in self._inputs]

    def prepare(self, **shapes):
        """Compiles the graph for these input shapes (``o=(h, w)``) ahead of a run; returns the
        lowering's notes. Raises ModelError when the model does not lower for them."""
        return self._engine._prepare(shapes)

    def emit(self, stage="graph", **shapes):
        """The graph as lowered (``"graph"``) or optimized (``"graph-opt"``), as text."""
        return self._engine._emit(shapes, stage)

    def run(self, device="cpu", **inputs):
        """Runs the model on ``device`` ("cpu", "cuda" or "auto": CUDA when a GPU is visible, as
        ``podm run --device``; ``last_device`` then says which ran); returns ``(x, trace)``.

        Inputs by name: images as float32 arrays H x W (gray), H x W x 3 (RGB: the model restores
        Y and the result comes back in colour, as ``podm run`` does) or N x H x W (a batch, run
        one by one); kernels as H x W arrays; scalars as numbers. ``trace`` maps each monitor
        to its per-stage values (N x stages for a batch, padded with NaN), plus ``time``.
        """
        self._use_device(device)
        batched = {k for k, v in inputs.items() if k in self._images and _is_stack(v)}
        if not batched:
            return self._engine._run(inputs, device)
        batch = _batch_size(inputs, batched)
        results, traces = [], []
        for i in range(batch):
            item = {k: (v[i] if k in batched else v) for k, v in inputs.items()}
            x, trace = self._engine._run(item, device)
            results.append(x)
            traces.append(trace)
        return _np.stack(results), _stack_traces(traces)

    def __repr__(self):
        return "podm.Model(%r)" % self.name


def compile(path=None, *, source=None, shapes=None, plugins=(), weights_dir=None, consts=None,
            name="<string>"):
    """Loads and checks a model: from a file ``path``, or from its text (``source=``).

    ``plugins``: prox plugin libraries to load first. ``weights_dir``: where relative weight
    paths are read (default: the model file's folder). ``consts``: ``{name: value}`` overrides
    of the model's consts (``podm run --set``). ``shapes``: ``{input: (h, w)}`` to lower now, so
    that lowering errors surface here. Raises ModelError with the location of the error.
    """
    engine = _podm._compile(None if path is None else str(path), source, [str(p) for p in plugins],
                            None if weights_dir is None else str(weights_dir),
                            {k: float(v) for k, v in (consts or {}).items()}, name)
    model = Model(engine)
    if shapes:
        model.prepare(**shapes)
    return model


def _is_stack(value):
    # N x H x W; H x W x 3 is one colour image.
    return getattr(value, "ndim", 0) == 3 and value.shape[2] != 3


def _batch_size(inputs, batched):
    sizes = {k: len(inputs[k]) for k in batched}
    if len(set(sizes.values())) != 1:
        raise ValueError("batched inputs disagree on N: %s" % sizes)
    return next(iter(sizes.values()))


def _stack_traces(traces):
    out = {}
    for key in traces[0]:
        longest = max(len(t.get(key, ())) for t in traces)
        dtype = bool if traces[0][key].dtype == bool else float
        rows = _np.full((len(traces), longest), False if dtype is bool else _np.nan)
        for i, t in enumerate(traces):
            v = t.get(key, ())
            rows[i, :len(v)] = v
        out[key] = rows
    return out
