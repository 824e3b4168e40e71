"""A compiled podm model as a PyTorch layer (docs/python.md, "PyTorch").

    layer = podm.torch.Layer(podm.compile("model.podm"), shapes={"o": (64, 64), "k": (9, 9)})
    x = layer(o=observation, k=kernel)          # forward: the model's unrolled stages
    loss = ((x - clean) ** 2).mean()
    loss.backward()                             # podm's autodiff tape, back to o and the params

The forward pass runs the model on podm's autodiff Tape (the one ``podm train --mode e2e`` uses),
which records every stage; the backward pass sweeps it in reverse and returns the gradients of the
inputs that require them and of the model's ``param``s, which the layer holds as
``torch.nn.Parameter``s (``layer.params``), so any torch optimizer trains them. Networks keep the
weights of their files. CPU float32 tensors; gray images H x W or batches N x H x W.
"""

import numpy as _np
import torch as _torch

from . import _podm


def _key(name):
    # "param.mu_net.w1" -> "mu_net__w1": ParameterDict keys may not contain dots.
    return name[len("param."):].replace(".", "__") if name.startswith("param.") else \
        name.replace(".", "__")


class Layer(_torch.nn.Module):
    """``model`` (from ``podm.compile``) as a module whose forward takes the model's inputs by
    name. ``shapes``: ``{input: (h, w)}`` of one sample, to lower the model and find its params
    (their shapes do not depend on the image size, so other sizes run as well)."""

    def __init__(self, model, shapes):
        super().__init__()
        self.model = model
        self._names = {}
        self.params = _torch.nn.ParameterDict()
        for name, value in _podm._start_params(model._engine, dict(shapes)).items():
            self._names[_key(name)] = name
            self.params[_key(name)] = _torch.nn.Parameter(_torch.from_numpy(_np.array(value)))

    def forward(self, **inputs):
        names = sorted(inputs)
        values = [inputs[n] for n in names]
        keys = list(self.params.keys())
        return _Run.apply(self, names, keys, len(values), *values,
                          *[self.params[k] for k in keys])


def _as_numpy(value):
    if isinstance(value, _torch.Tensor):
        if value.device.type != "cpu":
            raise ValueError("podm.torch runs on the CPU: move the tensor with .cpu() "
                             "(GPU tensors arrive with the CUDA runtime)")
        return value.detach().to(_torch.float32).contiguous().numpy()
    return value


class _Run(_torch.autograd.Function):
    @staticmethod
    def forward(ctx, layer, names, keys, count, *tensors):
        values, params = tensors[:count], tensors[count:]
        kinds = {d["name"]: d["type"] for d in layer.model.inputs}
        batched = {n for n, v in zip(names, values)
                   if kinds.get(n) == "image" and getattr(v, "ndim", 0) == 3}
        sizes = {len(v) for n, v in zip(names, values) if n in batched}
        if len(sizes) > 1:
            raise ValueError("batched inputs disagree on N: %s" % sorted(sizes))
        batch = sizes.pop() if sizes else None
        needs = {n for n, v in zip(names, values)
                 if isinstance(v, _torch.Tensor) and v.requires_grad}
        no_gradient = {n for n in names if n not in needs}
        param_values = {layer._names[k]: p.detach().numpy() for k, p in zip(keys, params)}
        runs, outputs = [], []
        for i in range(batch or 1):
            item = {n: _as_numpy(v[i] if n in batched else v) for n, v in zip(names, values)}
            run = _podm.TapeRun(layer.model._engine, item, param_values, no_gradient)
            runs.append(run)
            outputs.append(_torch.from_numpy(_np.array(run.output)))
        ctx.runs, ctx.layer, ctx.names, ctx.keys = runs, layer, names, keys
        ctx.batched, ctx.values, ctx.stacked = batched, values, batch is not None
        return _torch.stack(outputs) if batch is not None else outputs[0]

    @staticmethod
    def backward(ctx, grad_output):
        grads_in = [None] * len(ctx.names)
        grads_p = [None] * len(ctx.keys)
        for i, run in enumerate(ctx.runs):
            g_out = grad_output[i] if ctx.stacked else grad_output
            try:
                grads = run.backward(g_out.detach().to(_torch.float32).contiguous().numpy())
            except RuntimeError as e:
                wanted = [n for n, v in zip(ctx.names, ctx.values)
                          if isinstance(v, _torch.Tensor) and v.requires_grad]
                raise RuntimeError("podm.torch: model %s: no gradient with respect to %s: %s"
                                   % (ctx.layer.model.name,
                                      ", ".join("input '%s'" % n for n in wanted) or "its params",
                                      e)) from e
            for j, name in enumerate(ctx.names):
                value = ctx.values[j]
                if not (isinstance(value, _torch.Tensor) and value.requires_grad):
                    continue
                g = _torch.from_numpy(_np.array(grads[name]))
                if name in ctx.batched:
                    if grads_in[j] is None:
                        grads_in[j] = _torch.zeros_like(value)
                    grads_in[j][i] = g.reshape(value[i].shape)
                else:
                    g = g.reshape(value.shape)
                    grads_in[j] = g if grads_in[j] is None else grads_in[j] + g
            for j, key in enumerate(ctx.keys):
                g = _torch.from_numpy(_np.array(grads[ctx.layer._names[key]]))
                g = g.reshape(ctx.layer.params[key].shape)
                grads_p[j] = g if grads_p[j] is None else grads_p[j] + g
        ctx.runs = None  # the recorded stages are no longer needed
        return (None, None, None, None, *grads_in, *grads_p)
