"""The repository's own files agree with each other: pins, README course map, CI entry points."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.course import colab_badge, notebook_paths
from tools.run_notebooks import format_run_time

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = notebook_paths(REPO)
PIN = re.compile(r"^([A-Za-z0-9_.\[\]-]+)==([\w.]+)$")


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        line = line.strip().lstrip("- ").strip()
        match = PIN.match(line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_requirements_and_environment_yml_pin_the_same_packages():
    requirements = pins((REPO / "requirements.txt").read_text().splitlines())
    environment = pins((REPO / "environment.yml").read_text().splitlines())
    assert requirements == environment
    for package in ("tensorflow", "keras", "numpy", "matplotlib", "pandas", "jupyterlab", "nbval", "pytest",
                    "gymnasium", "ruff"):
        assert package in requirements, f"{package} is not pinned"
    assert requirements["keras"].startswith("3.")


def test_gpu_requirements_add_cuda_to_the_same_tensorflow():
    gpu = (REPO / "requirements-gpu.txt").read_text()
    tensorflow = pins((REPO / "requirements.txt").read_text().splitlines())["tensorflow"]
    assert "-r requirements.txt" in gpu and f"tensorflow[and-cuda]=={tensorflow}" in gpu


def course_map_rows() -> dict[str, list[str]]:
    rows = {}
    for line in (REPO / "README.md").read_text().splitlines():
        if re.match(r"^\| \d\d \|", line):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows[cells[0]] = cells
    return rows


def test_readme_course_map_matches_the_notebooks():
    rows = course_map_rows()
    assert sorted(rows) == [p.name[:2] for p in NOTEBOOKS], "README course map and notebooks/ list different chapters"
    for path in NOTEBOOKS:
        number, link, topics, run_time, badge = rows[path.name[:2]]
        notebook = json.loads(path.read_text())
        title = "".join(notebook["cells"][0]["source"]).splitlines()[0].split(" · ", 1)[1]
        assert link == f"[{title}](notebooks/{path.name})"
        assert topics, f"{path.name}: list its topics"
        assert badge == colab_badge(path.name)
        seconds = notebook["metadata"].get("course", {}).get("default_run_seconds")
        assert seconds is not None, f"{path.name}: no measured run time; run `make outputs NB={number}`"
        assert run_time == format_run_time(seconds), f"{path.name}: README says {run_time}, measured {seconds} s"


def test_readme_relative_links_point_to_files_in_the_repository():
    readme = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\((?!https?://|#)([^)#\s]+)\)", readme)
    assert targets, "the README links no file of its own"
    missing = [t for t in targets if not (REPO / t).exists()]
    assert not missing, f"README links files that do not exist: {missing}"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and "COURSE_DATA_DIR" in ci
    workflow = (REPO / ".github" / "workflows" / "cpu.yml").read_text()
    assert "make test" in workflow


def test_gpu_workflow_runs_notebooks_in_default_mode_with_quality_checks():
    workflow = (REPO / ".github" / "workflows" / "gpu.yml").read_text()
    assert "self-hosted" in workflow and "requirements-gpu.txt" in workflow
    assert "COURSE_MODE: default" in workflow and "notebooks" in workflow


def test_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"  # the table form {text = ...} is deprecated
    minimum = [r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools>=")]
    assert minimum and int(minimum[0].split(">=")[1].split(".")[0]) >= 77, "SPDX strings need setuptools>=77"


def make_dry_run(*arguments: str) -> str:
    """What make would run (-n), with the install step taken as done (-o) so nothing is installed."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    completed = subprocess.run(["make", "-n", "-o", ".venv/.installed", *arguments], cwd=REPO,
                               capture_output=True, text=True, check=True)
    return completed.stdout


def test_make_lab_passes_lab_args_and_allows_root_only_as_root():
    command = [line for line in make_dry_run("lab", "LAB_ARGS=--no-browser --port 8899").splitlines()
               if "jupyter lab" in line]
    assert len(command) == 1 and command[0].endswith("--no-browser --port 8899 notebooks/")
    assert ("--allow-root" in command[0]) == (os.geteuid() == 0)


def test_make_test_runs_ruff_over_the_code_and_the_notebooks_and_pytest():
    commands = make_dry_run("test")
    ruff = next(line for line in commands.splitlines() if "ruff check" in line)
    assert all(path in ruff.split() for path in ("helpers", "tools", "benchmarks", "tests", "notebooks"))
    assert "-m pytest" in commands and "make test" in (REPO / ".ci" / "run").read_text()
    assert "COURSE_REQUIRE_DATA=1" in (REPO / ".ci" / "run").read_text()
