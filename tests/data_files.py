"""The real dataset files for tests: a test that needs one skips loudly without it, and fails instead when
``COURSE_REQUIRE_DATA=1`` (set by ``.ci/run``), so CI can never pass without testing on the real data."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from helpers import data

REQUIRE_DATA = os.environ.get("COURSE_REQUIRE_DATA", "").strip() not in ("", "0")
DATA_FILES = ("mnist.npz", "fashion_mnist.npz", "cifar10.npz", "tinyshakespeare.txt")
_missing = [name for name in DATA_FILES if not (data.data_dir() / name).is_file()]
if _missing and not REQUIRE_DATA:
    warnings.warn(f"tests needing the real datasets will NOT run: {', '.join(_missing)} missing from "
                  f"{data.data_dir()}; set COURSE_DATA_DIR (see data/README.md)", UserWarning, stacklevel=1)


def local_file(filename: str) -> Path:
    """The real dataset file from the data folder; skips loudly without it, fails under COURSE_REQUIRE_DATA."""
    path = data.data_dir() / filename
    if not path.is_file():
        message = (f"NOT TESTED: {filename} is not in the data folder {data.data_dir()}; point COURSE_DATA_DIR "
                   f"at the dataset copies (data/README.md). .ci/run sets COURSE_REQUIRE_DATA=1, which fails here.")
        if REQUIRE_DATA:
            pytest.fail(message.replace("NOT TESTED: ", "COURSE_REQUIRE_DATA is set but "))
        pytest.skip(message)
    return path
