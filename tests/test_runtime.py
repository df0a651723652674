import os
import random

import numpy as np
import pytest

from fairnotes import runtime


def test_scale_follows_the_environment(monkeypatch):
    monkeypatch.setenv("FAIRNOTES_FAST", "1")
    assert runtime.is_fast() and runtime.scale(default=100, fast=3) == 3
    monkeypatch.setenv("FAIRNOTES_FAST", "0")
    assert not runtime.is_fast() and runtime.scale(default=100, fast=3) == 100
    monkeypatch.delenv("FAIRNOTES_FAST")
    assert runtime.scale(default=100, fast=3) == 100


def test_bad_flag_value_is_an_error(monkeypatch):
    monkeypatch.setenv("FAIRNOTES_FAST", "maybe")
    with pytest.raises(ValueError, match="FAIRNOTES_FAST"):
        runtime.is_fast()


def test_progress_is_silenced_in_fast_mode_and_by_flag(monkeypatch):
    monkeypatch.delenv("FAIRNOTES_PROGRESS", raising=False)
    monkeypatch.setenv("FAIRNOTES_FAST", "1")
    assert not runtime.progress_enabled()
    assert runtime.progress(range(3)).disable
    monkeypatch.setenv("FAIRNOTES_FAST", "0")
    assert runtime.progress_enabled()
    monkeypatch.setenv("FAIRNOTES_PROGRESS", "0")
    assert not runtime.progress_enabled()
    assert list(runtime.progress(range(3))) == [0, 1, 2]
    assert not runtime.progress(range(3), disable=False).disable


def test_seed_everything_repeats_numbers():
    runtime.seed_everything(7, torch=False, tensorflow=False)
    a = (random.random(), np.random.rand())
    runtime.seed_everything(7, torch=False, tensorflow=False)
    assert (random.random(), np.random.rand()) == a


def test_seed_everything_seeds_torch():
    torch = pytest.importorskip("torch")
    runtime.seed_everything(3, tensorflow=False)
    a = torch.rand(3)
    runtime.seed_everything(3, tensorflow=False)
    assert torch.equal(a, torch.rand(3))


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        runtime.seed_everything(bad, torch=False, tensorflow=False)


def test_tensorflow_start_up_lines_are_silenced_but_real_warnings_pass(tmp_path):
    """Students running a chapter see neither oneDNN's nor cuInit's start-up lines; other lines stay."""
    import subprocess
    import sys

    pytest.importorskip("tensorflow")
    code = ("import os, fairnotes.fairgp\n"
            "from fairnotes._tensorflow import quiet_startup\n"
            "with quiet_startup():\n"
            "    os.write(2, b'I0000 port.cc] oneDNN custom operations are on.\\n')\n"
            "    os.write(2, b'a real warning\\n')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}, check=True)
    for noise in ("oneDNN", "cuInit", "cuda drivers", "absl::InitializeLog"):
        assert noise not in out.stderr, f"TensorFlow's start-up line is visible: {out.stderr}"
    assert "a real warning" in out.stderr
