"""device= in Python as --device on the command line: "cpu", "cuda" (an error saying why when no GPU
can be used), "auto" (CUDA when a GPU is visible, else the CPU with a warning saying why). With a
GPU the CUDA run agrees with the CPU run to 1e-4 (relative); without one that case is skipped."""

import warnings

import numpy as np
import pytest

from conftest import EXAMPLES, podm


def _gpu_usable():
    try:
        podm.compile(EXAMPLES / "deblur_podm.podm")._use_device("cuda")
        return True
    except RuntimeError:
        return False


GPU = _gpu_usable()


def test_a_device_that_does_not_exist_is_named(blurred):
    _, o, k = blurred
    m = podm.compile(EXAMPLES / "deblur_podm.podm")
    with pytest.raises(ValueError, match="'cpu', 'cuda' or 'auto', not 'tpu'"):
        m.run(o=o, k=k, device="tpu")
    with pytest.raises(ValueError, match="not 'gpu'"):
        podm.eval(m, [], blur="gaussian:5:1", device="gpu")


@pytest.mark.skipif(GPU, reason="a GPU is usable here: the no-GPU messages cannot be seen")
def test_without_a_gpu_cuda_says_why_and_auto_runs_on_the_cpu(blurred):
    _, o, k = blurred
    m = podm.compile(EXAMPLES / "deblur_podm.podm")
    with pytest.raises(RuntimeError, match="device cuda: "):
        m.run(o=o, k=k, device="cuda")
    x_cpu, trace_cpu = m.run(o=o, k=k)
    assert m.last_device == "cpu"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x_auto, trace_auto = m.run(o=o, k=k, device="auto")
        m.run(o=o, k=k, device="auto")
    notes = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(notes) == 1 and notes[0].startswith("device auto: running on the CPU: ")
    assert m.last_device == "cpu"
    assert np.array_equal(x_auto, x_cpu)
    assert np.array_equal(trace_auto["phi"], trace_cpu["phi"])


@pytest.mark.skipif(not GPU, reason="no GPU usable here")
def test_on_a_gpu_cuda_agrees_with_the_cpu(blurred):
    clean, o, k = blurred
    m = podm.compile(EXAMPLES / "deblur_podm.podm")
    x_cpu, trace_cpu = m.run(o=o, k=k)
    x_gpu, trace_gpu = m.run(o=o, k=k, device="cuda")
    assert m.last_device == "cuda"
    assert np.linalg.norm(x_gpu - x_cpu) <= 1e-4 * np.linalg.norm(x_cpu)
    assert len(trace_gpu["phi"]) == len(trace_cpu["phi"])
    auto, _ = m.run(o=o, k=k, device="auto")
    assert m.last_device == "cuda" and np.array_equal(auto, x_gpu)
