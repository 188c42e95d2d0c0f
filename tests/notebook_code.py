"""Run a notebook's from-scratch code in a test, so tests check the very code the reader sees.

Cells tagged ``from-scratch`` hold the chapter's hand-written implementations (an optimizer step,
dropout, a convolution, ...). They may use only ``np``, ``tf``, ``keras`` and what earlier
``from-scratch`` cells define; ``scratch_namespace`` executes them in that order and returns the
names they define, for a unit test to compare against Keras.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import keras
import nbformat
import numpy as np
import tensorflow as tf

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TAG = "from-scratch"


@cache
def _namespace(notebook_name: str) -> dict:
    notebook = nbformat.read(NOTEBOOKS / notebook_name, as_version=4)
    cells = [c for c in notebook.cells if c.cell_type == "code" and TAG in c.metadata.get("tags", [])]
    if not cells:
        raise LookupError(f"{notebook_name} has no code cell tagged {TAG!r}")
    namespace: dict = {"np": np, "tf": tf, "keras": keras}
    for cell in cells:
        exec(compile(cell.source, f"{notebook_name}[{TAG}]", "exec"), namespace)  # noqa: S102
    return namespace


def scratch_namespace(notebook_name: str) -> dict:
    """Names defined by the notebook's ``from-scratch`` cells (a fresh copy of the dict each call)."""
    return dict(_namespace(notebook_name))
