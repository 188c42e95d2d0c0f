"""Checks: "ours equals Keras" (parity) and quality targets that only bind in default mode."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.environment import course_mode


def _as_float_array(value: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"check_parity: {what} must be numbers (a NumPy array, a tensor, a list or a scalar); "
            f"got {type(value).__name__}: {error}"
        ) from None
    return array


def check_parity(name: str, ours: Any, reference: Any, *, atol: float = 1e-6, rtol: float = 0.0) -> None:
    """Compare a from-scratch result with the Keras/TF one, print the verdict, raise if they differ.

    The tolerance is ``atol + rtol * max|reference|``. The printed line is the course's one way of
    showing "ours equals Keras"; it names the check, the largest absolute difference and the tolerance.

    Raises:
        ValueError: the two results have different shapes (nothing is broadcast silently).
        AssertionError: the difference exceeds the tolerance, or either side holds NaN or infinity.
    """
    ours_array = _as_float_array(ours, "ours")
    reference_array = _as_float_array(reference, "reference")
    if ours_array.shape != reference_array.shape:
        raise ValueError(
            f"check_parity({name!r}): ours has shape {ours_array.shape} but the reference has shape "
            f"{reference_array.shape}; compare arrays of the same shape."
        )
    if atol < 0 or rtol < 0:
        raise ValueError(f"check_parity({name!r}): atol and rtol must be >= 0, got atol={atol}, rtol={rtol}")
    if not (np.all(np.isfinite(ours_array)) and np.all(np.isfinite(reference_array))):
        raise AssertionError(f"{name}: a NaN or infinite value; ours={ours_array!r}, reference={reference_array!r}")
    difference = float(np.max(np.abs(ours_array - reference_array))) if ours_array.size else 0.0
    scale = float(np.max(np.abs(reference_array))) if reference_array.size else 0.0
    tolerance = atol + rtol * scale
    verdict = "OK" if difference <= tolerance else "MISMATCH"
    print(f"{name}: max abs difference {difference:.1e} (tolerance {tolerance:.0e}) {verdict}")
    if difference > tolerance:
        raise AssertionError(f"{name}: ours and the reference differ by {difference:.3e} > {tolerance:.1e}")


def expect_quality(description: str, value: float, *, at_least: float | None = None,
                   at_most: float | None = None) -> None:
    """Assert a quality target (accuracy, solved return, ...) in default mode; do nothing in smoke mode.

    It prints nothing either way, so stored outputs do not depend on the mode.

    Raises:
        ValueError: neither bound is given.
        AssertionError: in default mode, ``value`` is outside the bounds.
    """
    if at_least is None and at_most is None:
        raise ValueError("expect_quality needs at_least=, at_most= or both")
    if course_mode() == "smoke":
        return
    if at_least is not None and not value >= at_least:
        raise AssertionError(f"Quality target missed: {description} = {value:.4g}, needs at least {at_least:g}")
    if at_most is not None and not value <= at_most:
        raise AssertionError(f"Quality target missed: {description} = {value:.4g}, needs at most {at_most:g}")
