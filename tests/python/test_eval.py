"""podm.eval against `podm eval`: the same degradation, restoration and scores, image by image."""

import csv

import numpy as np
import pytest

from conftest import EXAMPLES, podm, run_cli


@pytest.fixture
def gt_folder(tmp_path):
    folder = tmp_path / "gt"
    folder.mkdir()
    for i, name in enumerate(("a.png", "b.png")):
        podm.write_image(str(folder / name), podm.synthetic_image("scene", 50 + 4 * i, 46, seed=i))
    podm.write_image(str(folder / "c.png"), podm.synthetic_image("scene-rgb", 48, 48, seed=7))
    return folder


def test_eval_equals_the_command(tmp_path, gt_folder):
    model = EXAMPLES / "deblur_podm.podm"
    run_cli("eval", model, "--gt", gt_folder, "--blur", "gaussian:9:1.6", "--noise", "2",
            "--seed", "4", "--csv", tmp_path / "scores.csv", "--align", "1", "--align-step", "0.5")
    with open(tmp_path / "scores.csv") as f:
        expected = list(csv.DictReader(f))
    got = podm.eval(str(model), gt_folder, blur="gaussian:9:1.6", noise=2, seed=4, align=1,
                    align_step=0.5)
    assert [r["image"] for r in got["rows"]] == [r["image"] for r in expected] == \
        ["a.png", "b.png", "c.png"]
    for row, want in zip(got["rows"], expected):
        assert row["psnr"] == pytest.approx(float(want["psnr"]), abs=1e-9)
        assert row["ssim"] == pytest.approx(float(want["ssim"]), abs=1e-12)
        assert row["stages"] == int(want["stages"])
        assert row["shift"] == (float(want["shift_y"]), float(want["shift_x"]))
    assert got["psnr"] == pytest.approx(np.mean([float(r["psnr"]) for r in expected]))
    with pytest.raises(ValueError, match="align_step"):
        podm.eval(str(model), gt_folder, blur="gaussian:9:1.6", align=1, align_step=0.3)


def test_eval_of_super_resolution_shaves_the_scale(gt_folder):
    model = podm.compile(EXAMPLES / "fista_sr.podm", consts={"s": 2})
    got = podm.eval(model, gt_folder, bicubic=2)
    assert len(got["rows"]) == 3 and all(r["psnr"] > 20 and r["shave"] == 2 for r in got["rows"])
    # The model's scale and the data's disagree: the lowering says where.
    with pytest.raises(podm.ModelError, match="ref"):
        podm.eval(model, gt_folder, bicubic=4)


def test_eval_errors(tmp_path, gt_folder):
    model = str(EXAMPLES / "deblur_podm.podm")
    with pytest.raises(ValueError, match="kernel"):
        podm.eval(model, gt_folder)
    with pytest.raises(ValueError, match="not a folder"):
        podm.eval(model, tmp_path / "nowhere", blur="gaussian:9:1.6")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_bytes(b"junk")
    with pytest.raises(ValueError, match="x.png"):
        podm.eval(model, tmp_path / "bad", blur="gaussian:9:1.6")
    with pytest.raises(ValueError, match="no image given"):
        podm.eval(model, [], blur="gaussian:9:1.6")
