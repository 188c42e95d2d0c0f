"""Facts about the course itself: where it lives and the template every notebook shares.

The repository address is defined here and nowhere else. The notebooks' Colab badges and the
setup cell are built from it; ``tests/test_notebook_hygiene.py`` fails when a notebook's copy
drifts, and ``python -m tools.notebook_template sync`` rewrites the copies after a change (for a fork).
"""

from __future__ import annotations

from pathlib import Path

REPOSITORY = "keras-deep-learning-course/course"
"""GitHub ``owner/name`` of the course. Forks change this one line and run
``python -m tools.notebook_template sync``."""

BRANCH = "main"

REPOSITORY_URL = f"https://github.com/{REPOSITORY}"

CURRICULUM = {
    0: "setup_and_tour",
    1: "gradient_descent",
    2: "momentum",
    3: "adaptive_learning_rates",
    4: "learning_rate_schedules",
    5: "overfitting_l2_dropout",
    6: "batch_normalization",
    7: "convolutional_networks",
    8: "residual_networks",
    9: "recurrent_networks",
    10: "attention_seq2seq",
    11: "generative_adversarial_networks",
    12: "deep_q_networks",
    13: "transformers",
    14: "scaling_up",
}
"""Chapter number -> file name stem: notebooks/NN_<stem>.ipynb (the hygiene tests enforce it)."""

SETUP_CELL = f"""\
# Course set-up (the same cell opens every notebook). On Colab it first installs the helpers.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "course-helpers @ git+{REPOSITORY_URL}@{BRANCH}"

try:
    import helpers
except ModuleNotFoundError:
    raise ModuleNotFoundError(
        "The course helpers are not installed. On Colab, the %pip line above failed: read its error "
        "(no network? the repository {REPOSITORY_URL} "
        "moved or is a fork's?). On your own machine, run `make lab` (or `pip install -e .`) "
        "in the course repository.") from None

settings = helpers.setup(seed=42)"""
"""Source of the first code cell of every notebook, byte for byte."""

SETUP_CELL_TAGS = ["nbval-ignore-output"]
"""The setup cell's output names the machine and the mode, so nbval does not compare it."""


def colab_url(path: str | Path) -> str:
    """Address that opens a notebook of the repository from GitHub in Google Colab.

    ``path`` is the notebook's path from the repository root (``student/00_setup_and_tour.ipynb``); a bare file
    name (``00_setup_and_tour.ipynb``) means a chapter, ``notebooks/<name>``.
    """
    relative = Path(path).as_posix()
    if "/" not in relative:
        relative = f"notebooks/{relative}"
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{relative}"


def colab_badge(path: str | Path) -> str:
    """Markdown for the "Open in Colab" badge of one notebook (``path`` as in ``colab_url``)."""
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({colab_url(path)})"
    )


KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
"""What JupyterLab writes into a notebook it saves; storing the same means opening one never marks it modified."""


NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
"""File-name pattern of the chapters in ``notebooks/`` (NN_snake_case_title.ipynb)."""

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
"""The checkout this package was imported from (an installed, non-editable copy has no notebooks there)."""


def notebook_paths(root: str | Path | None = None) -> list[Path]:
    """The course's notebooks in chapter order: ``notebooks/NN_*.ipynb`` under ``root`` (default: this checkout).

    The one definition of "the notebooks" for the tools, the benchmarks and the tests.
    """
    folder = (Path(root) if root is not None else REPOSITORY_ROOT) / "notebooks"
    return sorted(folder.glob(NOTEBOOK_GLOB))
