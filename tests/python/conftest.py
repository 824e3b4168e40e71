"""Fixtures of the Python module's tests: where the build put `podm` (the module and the command),
the repository's examples, and a fresh scratch folder per test (pytest's tmp_path, removed by
pytest's own retention; nothing is written anywhere else)."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PODM_BUILD_DIR", ROOT / "build"))
sys.path.insert(0, str(BUILD / "python"))

import podm  # noqa: E402  (after the path is set)

PODM = BUILD / "cli" / "podm"
EXAMPLES = ROOT / "examples"


def run_cli(*args, cwd=None, check=True):
    """Runs the podm command; returns the completed process (stdout and stderr as text)."""
    env = dict(os.environ, PODM_FFTW_WISDOM="off")
    done = subprocess.run([str(PODM), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env)
    if check and done.returncode != 0:
        raise AssertionError("podm %s failed (%d):\n%s" % (args, done.returncode, done.stderr))
    return done


@pytest.fixture(autouse=True)
def _no_wisdom(monkeypatch):
    # The tests never read or write the user's FFT plan cache.
    monkeypatch.setenv("PODM_FFTW_WISDOM", "off")


@pytest.fixture
def blurred(tmp_path):
    """A 64 x 64 synthetic scene, blurred (Gaussian 9 x 9, sigma 1.6) with noise: (clean, o, k)."""
    clean = podm.synthetic_image("scene", 64, 64, seed=3)
    k = podm.kernel("gaussian:9:1.6")
    o = podm.degrade(clean, blur=k, noise=2.0, seed=5)
    return np.array(clean), np.array(o), np.array(k)
