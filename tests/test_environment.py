"""helpers.environment: modes, seeding, the report line."""

import random

import numpy as np
import pytest

import helpers
from helpers.environment import Settings, course_mode


@pytest.mark.parametrize("value, expected", [("", "default"), ("default", "default"), ("smoke", "smoke"),
                                             (" SMOKE ", "smoke")])
def test_course_mode_reads_the_variable(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_MODE", value)
    assert course_mode() == expected


def test_unset_mode_is_default(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    assert course_mode() == "default"


@pytest.mark.parametrize("bad", ["smoek", "fast", "full"])
def test_unknown_mode_is_a_clear_error(monkeypatch, bad):
    monkeypatch.setenv("COURSE_MODE", bad)
    with pytest.raises(ValueError, match="not a course mode.*'default', 'smoke'"):
        course_mode()


def test_settings_pick():
    assert Settings("smoke", 1, "CPU", True).pick(default=10, smoke=1) == 1
    assert Settings("default", 1, "CPU", True).pick(default=10, smoke=1) == 10


def test_setup_seeds_everything_and_reports(monkeypatch, capsys):
    import tensorflow as tf

    monkeypatch.setenv("COURSE_MODE", "smoke")
    settings = helpers.setup(seed=7)
    first = (random.random(), np.random.rand(), float(tf.random.uniform(())))
    helpers.setup(seed=7)
    second = (random.random(), np.random.rand(), float(tf.random.uniform(())))
    assert first == second
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert f"TensorFlow {tf.__version__}" in line and "mode: smoke" in line and "seed 7" in line
    assert settings.smoke and settings.seed == 7 and settings.device.startswith(("CPU", "GPU"))
    assert settings.deterministic == settings.device.startswith("CPU")


def test_course_seed_overrides_the_notebooks_seed(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_MODE", "smoke")
    monkeypatch.setenv("COURSE_SEED", "3")
    assert helpers.setup(seed=42).seed == 3
    assert "seed 3" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_SEED", "three")
    with pytest.raises(ValueError, match="COURSE_SEED='three' is not a non-negative integer"):
        helpers.setup(seed=42)


@pytest.mark.parametrize("seed", [-1, 1.5, "42", True])
def test_setup_rejects_a_bad_seed(seed):
    with pytest.raises(ValueError, match="non-negative integer"):
        helpers.setup(seed=seed)


@pytest.mark.parametrize("device, flags, expected", [
    ("GPU: Tesla T4", "", "mixed_float16"),
    ("CPU only (2 cores)", "flags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile", "mixed_bfloat16"),
    ("CPU only (2 cores)", "flags\t\t: fpu avx2 avx512f avx512_bf16", "float32"),   # bfloat16 instructions, no AMX
    ("CPU only (8 cores)", "", "float32"),
])
def test_fast_precision_policy(device, flags, expected):
    assert helpers.fast_precision_policy(device, flags) == expected


def test_fast_precision_policy_reads_this_machine():
    import keras

    policy = helpers.fast_precision_policy()
    assert keras.mixed_precision.Policy(policy).variable_dtype == "float32"   # a valid policy name
