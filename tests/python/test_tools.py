"""The CLI's image tools from Python: image files, degradation equal to `podm degrade`, PSNR/SSIM,
kernels, and prox calls on arrays (built-in proxes against their closed forms and the names the
CLI's `test-prox` lists)."""

import numpy as np
import pytest

from conftest import podm, run_cli


def test_the_version_is_the_commands():
    assert run_cli("--version").stdout.split()[-1] == podm.__version__


def test_npy_and_png_round_trips(tmp_path):
    image = podm.synthetic_image("scene", 40, 48, seed=2)
    podm.write_image(str(tmp_path / "a.npy"), image)
    assert np.array_equal(podm.read_image(str(tmp_path / "a.npy")), image)
    podm.write_image(str(tmp_path / "a.png"), image, bit_depth=16)
    back = podm.read_image(str(tmp_path / "a.png"))
    assert back.shape == (40, 48) and np.max(np.abs(back - image)) <= 0.5 / 65535 + 1e-7
    rgb = podm.synthetic_image("scene-rgb", 24, 32)
    assert rgb.shape == (24, 32, 3)
    podm.write_image(str(tmp_path / "c.png"), rgb)
    assert np.max(np.abs(podm.read_image(str(tmp_path / "c.png")) - rgb)) <= 0.5 / 255 + 1e-6


def test_bad_image_files_and_arrays(tmp_path):
    with pytest.raises(ValueError, match="missing.png"):
        podm.read_image(str(tmp_path / "missing.png"))
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="junk.png"):
        podm.read_image(str(tmp_path / "junk.png"))
    with pytest.raises(ValueError, match="JPEG|jpg|lossy"):
        podm.write_image(str(tmp_path / "x.jpg"), np.zeros((8, 8), np.float32))
    assert not (tmp_path / "x.jpg").exists()
    bad = np.zeros((8, 8), np.float32)
    bad[1, 1] = np.inf
    with pytest.raises(ValueError):
        podm.write_image(str(tmp_path / "inf.png"), bad)
    assert not (tmp_path / "inf.png").exists()


def test_degrade_equals_the_command_line(tmp_path):
    clean = podm.synthetic_image("scene", 64, 64, seed=4)
    podm.write_image(str(tmp_path / "gt.npy"), clean)
    run_cli("degrade", tmp_path / "gt.npy", "--blur", "gaussian:9:1.6", "--noise", "5", "--seed",
            "3", "-o", tmp_path / "o.npy")
    o = podm.degrade(clean, blur="gaussian:9:1.6", noise=5, seed=3)
    assert np.array_equal(o, podm.read_image(str(tmp_path / "o.npy")))
    run_cli("degrade", tmp_path / "gt.npy", "--bicubic", "4", "-o", tmp_path / "lr.npy")
    lr = podm.degrade(clean, bicubic=4)
    assert lr.shape == (16, 16)
    assert np.array_equal(lr, podm.read_image(str(tmp_path / "lr.npy")))
    with pytest.raises(ValueError, match="modcrop"):
        podm.degrade(clean[:63, :63], bicubic=4)
    assert podm.modcrop(clean[:63, :63], 4).shape == (60, 60)
    with pytest.raises(ValueError, match="kernel_as"):
        podm.degrade(clean, blur="gaussian:9:1.6", kernel_as="transpose")


def test_correlation_is_convolution_with_the_flipped_kernel():
    clean = podm.synthetic_image("scene", 48, 48)
    k = np.zeros((5, 5), np.float32)
    k[0, 1], k[3, 4], k[2, 2] = 0.5, 0.3, 0.2
    a = podm.degrade(clean, blur=k, kernel_as="correlation")
    b = podm.degrade(clean, blur=k[::-1, ::-1].copy())
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_psnr_and_ssim():
    clean = podm.synthetic_image("scene", 64, 64)
    noisy = np.clip(clean + 0.01 * np.random.default_rng(1).standard_normal(clean.shape),
                    0, 1).astype(np.float32)
    mse = np.mean((noisy.astype(np.float64) - clean) ** 2)
    assert podm.psnr(noisy, clean) == pytest.approx(10 * np.log10(1 / mse), abs=1e-3)
    assert 0.5 < podm.ssim(noisy, clean) < 1
    assert podm.ssim(clean, clean) == pytest.approx(1)
    with pytest.raises(ValueError, match="reference"):
        podm.psnr(noisy, clean[:32])
    with pytest.raises(ValueError, match="shave"):
        podm.psnr(noisy, clean, shave=40)


def test_prox_closed_forms():
    v = np.linspace(-2, 2, 64, dtype=np.float32).reshape(8, 8)
    soft = np.sign(v) * np.maximum(np.abs(v) - 0.3, 0)
    np.testing.assert_allclose(podm.prox("l1", v, gamma=0.3), soft, atol=1e-6)
    np.testing.assert_allclose(podm.prox("box", v, lo=-1, hi=0.5), np.clip(v, -1, 0.5))
    np.testing.assert_allclose(podm.prox("nonneg", v), np.maximum(v, 0))


def test_prox_errors_name_the_problem():
    v = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="l11"):
        podm.prox("l11", v)
    with pytest.raises(ValueError, match="lp.*p"):
        podm.prox("lp", v, p=7)
    with pytest.raises(ValueError, match="gamma"):
        podm.prox("l1", v, gamma=0)


def test_check_prox_is_the_command_test_prox():
    passed, report = podm.check_prox("lp", p=0.8)
    assert passed
    assert report == run_cli("test-prox", "builtin", "lp", "--arg", "p=0.8").stdout
    with pytest.raises(ValueError, match="no prox named"):
        podm.check_prox("l11")


def test_prox_outputs_satisfy_the_optimality_of_the_prox():
    # p = prox_{gamma g}(v) iff (v - p) / gamma is a subgradient of g at p: g(u) >= g(p) + <(v -
    # p) / gamma, u - p> for every u; checked on random u for l1 and lp (nonconvex: the global
    # minimum of the separable 1-D problems instead, on a grid).
    rng = np.random.default_rng(3)
    v = rng.standard_normal((16, 16)).astype(np.float32)
    p = podm.prox("l1", v, gamma=0.4)
    for _ in range(20):
        u = rng.standard_normal(v.shape)
        assert np.abs(u).sum() + 1e-4 >= np.abs(p).sum() + ((v - p) / 0.4 * (u - p)).sum()
    q = podm.prox("lp", v, gamma=0.4, p=0.5)
    grid = np.linspace(-4, 4, 80001)
    for vi, qi in zip(v.ravel()[:32], q.ravel()[:32]):
        objective = lambda x: np.abs(x) ** 0.5 + (x - vi) ** 2 / (2 * 0.4)  # noqa: E731
        assert objective(qi) <= objective(grid).min() + 1e-4


def test_prox_names_are_what_test_prox_lists():
    listed = run_cli("test-prox", "builtin").stdout
    names = podm.prox_names()
    assert names == sorted(names) and "l1" in names
    for name in names:
        assert "\n  %s" % name in listed
    lp = next(p for p in podm.prox_catalogue() if p["name"] == "lp")
    assert "p" in lp["params"]


def test_a_plugin_prox_from_python_and_in_a_model(tmp_path):
    from conftest import BUILD
    plugin = BUILD / "examples" / "plugins" / "libpodm_example_plugin.so"
    if not plugin.exists():
        pytest.skip("the example plugin is not built")
    source = """model enet
input o : image
var x : image = o
f(x) = 0.5 * || x - o ||^2
g(x) = 0.2 * elastic_net(x, ratio = 0.5)
stages 3 proxgrad { gamma = 1 }
"""
    with pytest.raises(podm.ModelError, match="elastic_net"):
        podm.compile(source=source, name="enet.podm")  # not loaded yet
    m = podm.compile(source=source, plugins=[str(plugin)])
    v = np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8)
    expected = np.sign(v) * np.maximum(np.abs(v) - 0.2, 0) / (1 + 0.2 * 0.5)
    np.testing.assert_allclose(podm.prox("elastic_net", v, gamma=0.2, ratio=0.5), expected,
                               atol=1e-6)
    x, _ = m.run(o=v)
    (tmp_path / "enet.podm").write_text(source)
    podm.write_image(str(tmp_path / "v.npy"), v)
    run_cli("run", tmp_path / "enet.podm", "--plugin", plugin, "--input",
            "o=%s" % (tmp_path / "v.npy"), "-o", tmp_path / "x.npy", "--quiet")
    assert np.max(np.abs(x - podm.read_image(str(tmp_path / "x.npy")))) <= 1e-6
    with pytest.raises(ValueError, match="ABI|cannot be loaded"):
        podm.load_plugin(str(BUILD / "tests" / "stdlib" / "prox" /
                             "libpodm_prox_fixture_wrong_abi.so"))
