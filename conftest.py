"""Test set-up for the whole repository: smoke mode for every notebook, and the nbval adjustments the course needs."""

from __future__ import annotations

import os
import re

import matplotlib
import pytest

# Set before any kernel starts: nbval's kernels inherit this process's environment.
os.environ.setdefault("COURSE_MODE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The checked outputs are the notebooks' own seeds: a COURSE_SEED left set for a seed study must not leak in.
os.environ.pop("COURSE_SEED", None)
matplotlib.use("Agg")

# The classroom fixture's notebooks are test data for tests/test_classroom.py, not chapters for nbval to run
# (its student edition raises NotImplementedError by design). Ignored here, not in a second conftest.py:
# two modules named "conftest" shadow each other, and tests/test_stderr_check.py imports this one.
collect_ignore_glob = ["tests/fixtures/*"]

TRAINING_CELL_OUTPUT_TIMEOUT_S = 600
"""nbval waits 5 s (hard-coded) for a cell's output messages; training cells can be quiet for longer."""

STDERR_ALLOWED: tuple[tuple[str, str], ...] = (
    # (regular expression a whole stderr line must match, why that line is acceptable in a reader's notebook)
    (r"\s*", "blank lines and the line ends of allowed lines"),
)
"""The only stderr a notebook cell may write. Anything else fails the cell, on every lane (``make test`` and
``make test-colab``): a reader sees stderr as a red box, and stored outputs would carry it. nbval never compares
stderr (see ``pytest_collectstart``), so without this check new noise, such as TensorFlow 2.20's C++ warnings
from chapter 09's IRNN, would pass unnoticed. Keep this list short: silence noise at its cause instead."""


def unexpected_stderr(text: str, allowed: tuple[tuple[str, str], ...] = STDERR_ALLOWED) -> list[str]:
    """The lines of ``text`` (a cell's stderr) that match none of the ``allowed`` patterns (whole-line match)."""
    patterns = [re.compile(pattern) for pattern, _reason in allowed]
    return [line for line in text.splitlines() if not any(p.fullmatch(line) for p in patterns)]


def pytest_collectstart(collector: pytest.Collector) -> None:
    if collector.fspath and str(collector.fspath).endswith(".ipynb"):
        # TF/Keras write logs and warnings (with per-process temporary paths) to stderr; never compare it
        # with the stored outputs. What a cell writes there is checked by pytest_runtest_call below.
        collector.skip_compare = (*collector.skip_compare, "stderr")
        collector.setup = _without_pytest_marker(collector.setup)
        collector.get_kernel_message = _recording_stderr(collector, collector.get_kernel_message)


def _recording_stderr(collector: pytest.Collector, get_kernel_message):
    """Keep every stderr message the kernel sends, also one that arrives after its cell went idle (nbval
    skips those silently while it waits for the next cell): the next cell checked reports it."""
    collector.stderr_received = []

    def get_message(*args, **kwargs):
        message = get_kernel_message(*args, **kwargs)
        if message["msg_type"] == "stream" and message["content"].get("name") == "stderr":
            collector.stderr_received.append(message["content"].get("text", ""))
        return message

    return get_message


def _without_pytest_marker(start_kernel):
    """nbval starts the notebook's kernel in its collector's ``setup``, inside a test, so the kernel inherits
    ``PYTEST_CURRENT_TEST``; ipykernel then does not capture the file descriptors 1 and 2, and what C/C++ code
    (TensorFlow's logging) writes there is lost instead of becoming the cell's output, as in Jupyter and in
    ``tools.run_notebooks``. Starting the kernel without that variable makes nbval see what a reader sees."""

    def setup() -> None:
        marker = os.environ.pop("PYTEST_CURRENT_TEST", None)
        try:
            start_kernel()
        finally:
            if marker is not None:
                os.environ["PYTEST_CURRENT_TEST"] = marker

    return setup


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = TRAINING_CELL_OUTPUT_TIMEOUT_S


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After nbval has run a notebook cell (and found no error or output difference), fail it on unexpected stderr."""
    received = getattr(item.parent, "stderr_received", None)
    if received is None or not hasattr(item, "raise_cell_error"):
        return (yield)
    try:
        result = yield
    except BaseException:
        received.clear()                             # the cell failed already: do not blame the next one
        raise
    stderr, received[:] = "".join(received), []      # this cell's stderr and any late from the cell before
    unexpected = unexpected_stderr(stderr)
    if unexpected:
        shown = unexpected[:20] + ([f"... and {len(unexpected) - 20} more lines"] if len(unexpected) > 20 else [])
        item.raise_cell_error("Cell wrote to stderr lines that conftest.STDERR_ALLOWED does not allow (below)",
                              "\n" + "\n".join(shown))
    return result
