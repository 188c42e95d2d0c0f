"""conftest's stderr check: a notebook cell that writes to stderr fails, unless the line is on the allow-list."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

import conftest

REPO = Path(__file__).resolve().parent.parent


def test_allow_list_is_short_and_every_entry_says_why():
    assert len(conftest.STDERR_ALLOWED) <= 10
    assert all(pattern and len(reason) > 10 for pattern, reason in conftest.STDERR_ALLOWED)


def test_unexpected_stderr_keeps_every_line_no_pattern_allows():
    tf_2_20_noise = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "W0000 00:00:1795903520.649137    6918 graph_view.cc:849] No registered '' OpKernel for CPU devices "
        "compatible with node {{node sequential_1/simple_rnn_1/while/simple_rnn_cell_1/Relu}}\n"
        "\t.  Registered:  <no registered kernels>\n\n")
    assert conftest.unexpected_stderr(tf_2_20_noise) == tf_2_20_noise.strip("\n").split("\n")[:3]
    assert conftest.unexpected_stderr("/x.py:3: UserWarning: careful\n  warnings.warn('careful')\n") == [
        "/x.py:3: UserWarning: careful", "  warnings.warn('careful')"]
    assert conftest.unexpected_stderr("") == [] and conftest.unexpected_stderr("\n \n") == []


def test_unexpected_stderr_matches_whole_lines_only():
    allowed = (("note: .*", "a test pattern, for this test only"),)
    assert conftest.unexpected_stderr("note: fine\nnot a note: note: fine\n", allowed) == ["not a note: note: fine"]


def test_a_notebook_cell_writing_to_stderr_fails_under_nbval(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print('to stdout: fine')", execution_count=1),
                      nbformat.v4.new_code_cell("import sys\nprint('deliberate noise', file=sys.stderr)",
                                                execution_count=2),
                      nbformat.v4.new_code_cell("import os\nos.write(2, b'C-level noise, as TensorFlow writes it\\n')",
                                                execution_count=3)]
    nbformat.write(notebook, tmp_path / "noisy.ipynb")
    shutil.copy(REPO / "conftest.py", tmp_path / "conftest.py")
    run = subprocess.run([sys.executable, "-m", "pytest", "noisy.ipynb", "--nbval-lax", "--nbval-current-env",
                          "-p", "no:cacheprovider", "-q", "-rf"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout and "2 failed" in run.stdout, run.stdout
    assert "deliberate noise" in run.stdout and "C-level noise" in run.stdout and "STDERR_ALLOWED" in run.stdout
