"""The repository's own files agree with each other: pins, README course map, CI entry points."""

from __future__ import annotations

import json
import re
from pathlib import Path

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
                    "gymnasium"):
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
