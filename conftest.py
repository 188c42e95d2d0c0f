"""Test set-up for the whole repository: smoke mode for every notebook, and the nbval adjustments the course needs."""

from __future__ import annotations

import os

import matplotlib
import pytest


# Set before any kernel starts: nbval's kernels inherit this process's environment.
os.environ.setdefault("COURSE_MODE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
matplotlib.use("Agg")

TRAINING_CELL_OUTPUT_TIMEOUT_S = 600
"""nbval waits 5 s (hard-coded) for a cell's output messages; training cells can be quiet for longer."""


def pytest_collectstart(collector: pytest.Collector) -> None:
    # TF/Keras write logs and warnings (with per-process temporary paths) to stderr; never compare it.
    if collector.fspath and str(collector.fspath).endswith(".ipynb"):
        collector.skip_compare = (*collector.skip_compare, "stderr")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = TRAINING_CELL_OUTPUT_TIMEOUT_S
