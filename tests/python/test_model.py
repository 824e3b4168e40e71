"""podm.compile and Model.run: errors with their location, runs equal to `podm run`, traces,
colour and batches, inputs read without a copy, the GIL released while a graph runs."""

import threading
import time

import numpy as np
import pytest

from conftest import EXAMPLES, podm, run_cli

FISTA = """model fista_deblur
input o : image
input k : kernel
input ref : image optional
op K = conv(k, boundary = "periodic")
var x : image = o
f(x) = 0.5 * || K x - o ||^2
g(x) = 1e-3 * l1(x) + box(x, lo = 0, hi = 1)
stages 10 fista { gamma = 1 / L(f) }
monitor phi, rel_change, psnr(ref)
"""


def test_sema_error_is_a_model_error_with_its_location():
    source = FISTA.replace("l1(x)", "l11(x)")
    with pytest.raises(podm.ModelError) as e:
        podm.compile(source=source, name="bad.podm")
    assert e.value.file == "bad.podm"
    assert e.value.line == 8
    assert e.value.column == 15
    assert "l11" in e.value.message
    assert "^" in e.value.caret and "l11(x)" in e.value.caret
    assert str(e.value).startswith("bad.podm:8:15: error:")


def test_syntax_error_and_missing_file():
    with pytest.raises(podm.ModelError) as e:
        podm.compile(source="model m\ninput o : image\nvar x : = o\n")
    assert e.value.line == 3
    with pytest.raises(ValueError, match="no_such.podm"):
        podm.compile("no_such.podm")
    with pytest.raises(TypeError):
        podm.compile()


def test_lowering_error_is_located_too(blurred):
    _, o, k = blurred
    # l21 of an operator needs a splitting solver: sema accepts it, the lowering does not.
    source = FISTA.replace("1e-3 * l1(x)", "1e-3 * l21(D x)").replace(
        "var x", "op D = grad\nvar x")
    m = podm.compile(source=source)
    with pytest.raises(podm.ModelError, match="splitting") as e:
        m.run(o=o, k=k)
    assert e.value.line == 9 and "l21(D x)" in e.value.caret
    with pytest.raises(ValueError, match="larger than the image 'o'.*swapped"):
        podm.compile(source=FISTA).run(o=k, k=o)


def test_run_equals_the_command_line(tmp_path, blurred):
    clean, o, k = blurred
    model = tmp_path / "fista.podm"
    model.write_text(FISTA)
    for name, array in (("o.npy", o), ("k.npy", k), ("ref.npy", clean)):
        podm.write_image(str(tmp_path / name), array)
    run_cli("run", model, "--input", "o=%s" % (tmp_path / "o.npy"), "--input",
            "k=%s" % (tmp_path / "k.npy"), "--ref", tmp_path / "ref.npy", "-o",
            tmp_path / "x.npy", "--trace", tmp_path / "trace.csv", "--quiet")
    x_cli = podm.read_image(str(tmp_path / "x.npy"))
    x, trace = podm.compile(str(model)).run(o=o, k=k, ref=clean)
    assert x.shape == (64, 64) and x.dtype == np.float32
    assert np.max(np.abs(x - x_cli)) <= 1e-6
    rows = np.genfromtxt(tmp_path / "trace.csv", delimiter=",", names=True)
    assert len(trace["phi"]) == len(rows) == 10
    np.testing.assert_allclose(trace["phi"], rows["phi"], rtol=1e-5)
    np.testing.assert_allclose(trace["psnr"], rows["psnr"], rtol=1e-5)
    assert trace["time"].shape == (10,) and np.all(trace["time"] > 0)
    assert trace["psnr"][-1] > podm.psnr(o, clean)


def test_trace_of_a_checked_model_has_the_branch(blurred):
    clean, o, k = blurred
    m = podm.compile(EXAMPLES / "deblur_podm.podm")
    names = {d["name"] for d in m.inputs}
    assert {"o", "k"} <= names
    x, trace = m.run(o=o, k=k, ref=clean)
    assert trace["branch"].dtype == bool
    assert len(trace["branch"]) == len(trace["phi"]) > 0
    assert not any(key.startswith("prop1.") for key in trace)


def test_inputs_are_read_without_a_copy(blurred):
    _, o, k = blurred
    m = podm.compile(source=FISTA)
    m.run(o=o, k=k)  # compiles
    before = podm._podm._input_copies()
    m.run(o=o, k=k)
    assert podm._podm._input_copies() == before
    m.run(o=o.astype(np.float64), k=k)  # converted once
    assert podm._podm._input_copies() == before + 1
    m.run(o=np.asfortranarray(o), k=k)
    assert podm._podm._input_copies() == before + 2


def test_result_owns_its_memory_and_outlives_the_model(blurred):
    _, o, k = blurred
    x, _ = podm.compile(source=FISTA).run(o=o, k=k)
    y = x.copy()
    del _
    assert np.array_equal(x, y) and x.base is not None


def test_rgb_in_rgb_out(blurred):
    clean, o, k = blurred
    rgb = np.stack([o, 0.9 * o, 0.8 * o], axis=2).astype(np.float32)
    x, _ = podm.compile(source=FISTA).run(o=rgb, k=k)
    assert x.shape == (64, 64, 3)
    assert np.all((x >= 0) & (x <= 1))


def test_batches_run_item_by_item(blurred):
    clean, o, k = blurred
    m = podm.compile(source=FISTA)
    batch = np.stack([o, np.flipud(o).copy(), np.fliplr(o).copy()])
    xs, trace = m.run(o=batch, k=k)
    assert xs.shape == (3, 64, 64)
    assert trace["phi"].shape == (3, 10)
    for i in range(3):
        xi, ti = m.run(o=batch[i], k=k)
        assert np.array_equal(xs[i], xi)
        np.testing.assert_array_equal(trace["phi"][i], ti["phi"])


def test_bad_inputs_are_refused_by_name(blurred):
    _, o, k = blurred
    m = podm.compile(source=FISTA)
    with pytest.raises(TypeError, match="no input 'obs'.*o \\(image\\)"):
        m.run(obs=o, k=k)
    with pytest.raises(TypeError, match="input 'k'.*not given"):
        m.run(o=o)
    with pytest.raises(ValueError, match="input 'o'"):
        m.run(o=o[0], k=k)
    bad = o.copy()
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="input 'o'"):
        m.run(o=bad, k=k)
    with pytest.raises(TypeError, match="input 'o'"):
        m.run(o="image.png", k=k)
    # An image library's 8/16-bit array would run at 255x the [0, 1] scale: refused, with the fix.
    with pytest.raises(TypeError, match=r"input 'o': a uint8 array with values up to 255.*/ 255"):
        m.run(o=(o * 255).astype(np.uint8), k=k)
    with pytest.raises(TypeError, match=r"input 'o': a uint16 array.*/ 65535"):
        m.run(o=(o * 65535).astype(np.uint16), k=k)
    x, _ = m.run(o=(o * 255).astype(np.uint8).astype(np.float32) / 255, k=k)
    assert x.dtype == np.float32
    # Values within [0, 1] (a 0/1 mask, a kernel) are numbers, whatever their type.
    m.run(o=(o > 0.5).astype(np.uint8), k=k)


def test_a_missing_weight_file_names_it_and_the_way_out(tmp_path, blurred):
    _, o, k = blurred
    m = podm.compile(EXAMPLES / "deblur_rpodm.podm", weights_dir=tmp_path)
    with pytest.raises(ValueError, match="net A.*deblur_rpodm.safetensors.*weights_dir"):
        m.run(o=o, k=k[2:7, 2:7].copy())


def test_consts_override_and_emit():
    source = FISTA.replace("1e-3 * l1(x)", "lam * l1(x)").replace(
        "var x", "const lam = 1e-3\nvar x")
    m = podm.compile(source=source, consts={"lam": 0.5})
    graph = m.emit("graph", o=(32, 32), k=(5, 5))
    assert graph.startswith('graph "fista_deblur"') and "f32[1x1x32x32]" in graph
    assert m.emit("graph-opt", o=(32, 32), k=(5, 5)) != graph
    with pytest.raises(ValueError, match="no const 'mu'"):
        podm.compile(source=source, consts={"mu": 1})
    with pytest.raises(podm.ModelError):
        podm.compile(source=source, consts={"lam": -1.0}, shapes={"o": (32, 32), "k": (5, 5)})


def test_the_gil_is_released_while_a_graph_runs():
    o = podm.synthetic_image("scene", 256, 256)
    k = podm.kernel("gaussian:9:1.6")
    m = podm.compile(source=FISTA.replace("stages 10", "stages 300"))
    m.run(o=o, k=k)  # compile first: only the run is measured
    started, done = threading.Event(), threading.Event()

    def work():
        started.set()
        m.run(o=o, k=k)
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    time.sleep(0.02)
    ticks = 0
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    assert ticks > 20, "the main thread barely ran while the model ran: the GIL was held"


def test_runs_of_a_warm_started_tv_model_repeat(blurred):
    # tv_iso carries its dual from stage to stage within a run, never from one run to the next.
    clean, o, k = blurred
    m = podm.compile(EXAMPLES / "proxgrad_deblur.podm", consts={})
    first, _ = m.run(o=o, k=k)
    second, _ = m.run(o=o, k=k)
    assert np.array_equal(first, second)
    fresh, _ = podm.compile(EXAMPLES / "proxgrad_deblur.podm").run(o=o, k=k)
    assert np.array_equal(first, fresh)
