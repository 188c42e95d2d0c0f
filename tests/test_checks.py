"""helpers.checks: the parity helper and default-mode quality targets."""

import numpy as np
import pytest

from helpers.checks import check_parity, expect_quality


def test_parity_passes_and_prints_the_difference(capsys):
    check_parity("sum", np.array([1.0, 2.0]), [1.0, 2.0 + 5e-7])
    assert capsys.readouterr().out == "sum: max abs difference 5.0e-07 (tolerance 1e-06) OK\n"


def test_parity_fails_loudly(capsys):
    with pytest.raises(AssertionError, match="differ by 1.000e-03"):
        check_parity("step", [0.0], [1e-3])
    assert "MISMATCH" in capsys.readouterr().out


def test_parity_relative_tolerance_scales_with_the_reference():
    check_parity("big", [1000.0], [1000.0005], atol=0, rtol=1e-6)
    with pytest.raises(AssertionError):
        check_parity("big", [1000.0], [1000.002], atol=0, rtol=1e-6)


def test_parity_rejects_shape_mismatch_instead_of_broadcasting():
    with pytest.raises(ValueError, match=r"shape \(3,\) but the reference has shape \(1, 3\)"):
        check_parity("w", np.zeros(3), np.zeros((1, 3)))


@pytest.mark.parametrize("bad", [[np.nan], [np.inf]])
def test_parity_rejects_non_finite_values(bad):
    with pytest.raises(AssertionError, match="NaN or infinite"):
        check_parity("x", bad, [0.0])


def test_parity_rejects_non_numbers():
    with pytest.raises(TypeError, match="must be numbers"):
        check_parity("x", ["a"], [0.0])


def test_parity_accepts_tensors(capsys):
    import tensorflow as tf

    check_parity("tensor", tf.constant([1.0, 2.0]), np.array([1.0, 2.0]))
    assert "max abs difference 0.0e+00" in capsys.readouterr().out


def test_quality_targets_bind_in_default_mode_only(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_MODE", "default")
    expect_quality("accuracy", 0.99, at_least=0.98)
    with pytest.raises(AssertionError, match="accuracy = 0.5, needs at least 0.98"):
        expect_quality("accuracy", 0.5, at_least=0.98)
    with pytest.raises(AssertionError, match="needs at most 1.6"):
        expect_quality("loss", 2.0, at_most=1.6)
    monkeypatch.setenv("COURSE_MODE", "smoke")
    expect_quality("accuracy", 0.5, at_least=0.98)
    assert capsys.readouterr().out == ""


def test_quality_needs_a_bound():
    with pytest.raises(ValueError, match="at_least"):
        expect_quality("accuracy", 0.5)
