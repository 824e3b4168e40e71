"""podm.torch.Layer: the model's forward on podm's autodiff tape inside torch autograd, gradients
of the inputs and the params against finite differences, and a few training steps that lower
the loss."""

import numpy as np
import pytest

from conftest import podm

torch = pytest.importorskip("torch")
import podm.torch  # noqa: E402

# A relaxed PODM without a network (A = identity): learnable DCT filters in the distance and a
# per-stage mu from a small MLP on the noise level; small enough for gradient checks.
RELAXED = """model relaxed_identity
input o : image
input k : kernel
input sigma : scalar = 0.01
op K = conv(k, boundary = "periodic")
op F = dct_filters(size = 3, learnable = true)
var u : image = o
f(u) = 0.5 * || K u - o ||^2
g(u) = box(u, lo = 0, hi = 1)
d(u, a) = mu / 2 * || F (u - a) ||^2
param mu_net[l] = mlp(sigma, hidden = [8], init = 0.05)
stages 4 relaxed { gamma = 0.99 / L(f); mu = mu_net[l]; A = identity }
"""


@pytest.fixture
def layer():
    model = podm.compile(source=RELAXED)
    return podm.torch.Layer(model, shapes={"o": (24, 24), "k": (5, 5)})


def sample(seed=0, n=24):
    clean = podm.synthetic_image("scene", n, n, seed=seed + 1)
    k = podm.kernel("gaussian:5:1.0")
    o = podm.degrade(clean, blur=k, noise=2.0, seed=seed)
    return (torch.from_numpy(np.array(clean)), torch.from_numpy(np.array(o)),
            torch.from_numpy(np.array(k)))


def loss_of(layer, o, k, clean):
    return ((layer(o=o, k=k) - clean) ** 2).sum()


def test_params_are_torch_parameters(layer):
    names = dict(layer.named_parameters())
    assert any("mu_net" in n for n in names)
    assert any("filters" in n for n in names)


def test_forward_equals_model_run(layer):
    clean, o, k = sample()
    x = layer(o=o, k=k)
    y, _ = layer.model.run(o=o.numpy(), k=k.numpy())
    np.testing.assert_allclose(x.detach().numpy(), y, atol=1e-5)


def directional_check(f, tensor, grad, seed):
    """Central difference of f along a random direction against <grad, direction>."""
    direction = torch.from_numpy(
        np.random.default_rng(seed).standard_normal(tuple(tensor.shape)).astype(np.float32))
    # A step large enough for float32 sums, small against the tensor's scale (zero-initialised
    # biases included).
    eps = 3e-2 * max(float(tensor.detach().abs().max()), 1.0) / float(direction.abs().max())
    with torch.no_grad():
        base = tensor.detach().clone()
        tensor.copy_(base + eps * direction)
        up = float(f())
        tensor.copy_(base - eps * direction)
        down = float(f())
        tensor.copy_(base)
    numeric = (up - down) / (2 * eps)
    analytic = float((grad * direction).sum())
    assert analytic == pytest.approx(numeric, rel=3e-2, abs=1e-4 * max(1.0, abs(numeric)))


def test_param_gradients_match_finite_differences(layer):
    clean, o, k = sample()
    loss = loss_of(layer, o, k, clean)
    layer.zero_grad()
    loss.backward()
    for i, (name, p) in enumerate(layer.named_parameters()):
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        directional_check(lambda: loss_of(layer, o, k, clean), p, p.grad, seed=i)


def test_input_gradient_matches_finite_differences(layer):
    clean, o, k = sample(seed=2)
    o = o.clone().requires_grad_(True)
    loss = loss_of(layer, o, k, clean)
    loss.backward()
    assert o.grad.shape == o.shape
    directional_check(lambda: loss_of(layer, o, k, clean), o, o.grad, seed=9)


def test_batches_sum_the_param_gradients(layer):
    (c0, o0, k), (c1, o1, _) = sample(0), sample(1)
    both = ((layer(o=torch.stack([o0, o1]), k=k) - torch.stack([c0, c1])) ** 2).sum()
    layer.zero_grad()
    both.backward()
    batched = {n: p.grad.clone() for n, p in layer.named_parameters()}
    layer.zero_grad()
    (loss_of(layer, o0, k, c0) + loss_of(layer, o1, k, c1)).backward()
    for n, p in layer.named_parameters():
        torch.testing.assert_close(batched[n], p.grad, rtol=1e-4, atol=1e-6)


def test_the_pytorch_example_trains_and_the_loss_falls():
    """examples/python/train_relaxed.py: the relaxed PODM of examples/ on train400 crops (synthetic
    scenes when ../shared/data is absent). The shipped params are already trained, so the check is
    on one batch trained on at every step, at a small rate: its loss must fall."""
    import os
    import subprocess
    import sys

    from conftest import BUILD, ROOT
    env = dict(os.environ, PYTHONPATH=str(BUILD / "python"), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / "train_relaxed.py"),
                           "--steps", "6", "--same-batch", "--lr", "1e-3"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mu_net__w1" in done.stdout and "(fell)" in done.stdout


def test_a_few_adam_steps_lower_the_loss(layer):
    data = [sample(s) for s in range(3)]
    opt = torch.optim.Adam(layer.parameters(), lr=2e-2)

    def total():
        return sum(float(loss_of(layer, o, k, c)) for c, o, k in data)

    start = total()
    for step in range(8):
        opt.zero_grad()
        sum(loss_of(layer, o, k, c) for c, o, k in data).backward()
        opt.step()
    assert total() < 0.97 * start


def test_gradients_through_the_examples_network_match_finite_differences():
    """The PyTorch example's model: examples/deblur_rpodm.podm with its CNN (the tape runs the
    network's backward for the input gradients), params from its shipped weight file."""
    from conftest import EXAMPLES
    model = podm.compile(EXAMPLES / "deblur_rpodm.podm")
    layer = podm.torch.Layer(model, shapes={"o": (24, 24), "k": (5, 5)})
    clean, o, k = sample(seed=4)

    def loss(o=o):
        return ((layer(o=o, k=k, sigma=0.01) - clean) ** 2).sum()

    layer.zero_grad()
    loss().backward()
    params = dict(layer.named_parameters())
    for i, name in enumerate(("params.F__filters", "params.mu_net__b3")):
        directional_check(loss, params[name], params[name].grad, seed=20 + i)
    # Its prior's bounds are min(o) and max(o): the tape has no gradient through them, and says so.
    with pytest.raises(RuntimeError, match="input 'o'.*prox"):
        loss(o.clone().requires_grad_(True)).backward()
