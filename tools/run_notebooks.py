"""Re-execute notebooks top to bottom and store their outputs (the one way stored outputs are made).

    python -m tools.run_notebooks                 # every notebook, default mode
    python -m tools.run_notebooks 00 03           # only these numbers
    python -m tools.run_notebooks --mode smoke --no-save 00   # a quick check, nothing written
    python -m tools.run_notebooks --seed 1 --out /tmp/seed1 08  # another seed; executed copy to /tmp/seed1

In default mode each notebook's measured run time is written into its metadata
(``course.default_run_seconds``) and into the README's course map. ``python -m benchmarks`` writes
its own default-mode runs there too, so the map shows the latest measured figure. The files generated
from stored notebooks (the student edition in student/ and the generated blocks of docs/teaching.md)
are regenerated at the same time, so a re-stored chapter never leaves them out of date.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.course import notebook_paths
from tools.classroom.edition import write_student_editions
from tools.classroom.guide import write_guide

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
README = REPO / "README.md"


def format_run_time(seconds: float) -> str:
    """How the README shows a run time: '45 s' below 90 s, else minutes with one decimal."""
    return f"{round(seconds)} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def execute(path: Path, mode: str, timeout: int, seed: int | None = None) -> tuple[nbformat.NotebookNode, float]:
    """Run one notebook in a fresh kernel with COURSE_MODE set for ``mode`` (and COURSE_SEED for ``seed``,
    which overrides the seed of ``helpers.setup``); return it and the seconds taken."""
    notebook = nbformat.read(path, as_version=4)
    previous = {name: os.environ.pop(name, None) for name in ("COURSE_MODE", "COURSE_SEED")}
    if mode != "default":
        os.environ["COURSE_MODE"] = mode
    if seed is not None:
        os.environ["COURSE_SEED"] = str(seed)
    try:
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        start = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - start
    finally:
        for name, value in previous.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
    return notebook, elapsed


def update_readme_time(notebook_name: str, seconds: float) -> None:
    """Put the measured time in the README course-map row of this notebook (the 4th column)."""
    text = README.read_text()
    pattern = re.compile(rf"^(\| [^|]* \| [^|]*\({re.escape('notebooks/' + notebook_name)}\)[^|]* \| [^|]* \| )"
                         rf"[^|]*( \|.*)$", re.MULTILINE)
    updated, count = pattern.subn(lambda m: m.group(1) + format_run_time(seconds) + m.group(2), text)
    if count == 1:
        README.write_text(updated)
    else:
        print(f"  README.md has {count} course-map rows for {notebook_name}, not one: add its row "
              f"(CPU time {format_run_time(seconds)}); tests/test_repository.py checks it")


def record_default_run_time(path: Path, seconds: float, notebook: nbformat.NotebookNode | None = None) -> None:
    """Write a measured default-mode run time into the notebook's metadata and the README course map,
    and regenerate what is derived from stored notebooks (student edition, instructor guide).
    With ``notebook`` (just executed) that is what gets written, outputs included; without it the file
    is read and only its metadata changes."""
    if notebook is None:
        notebook = nbformat.read(path, as_version=4)
    seconds = round(seconds)  # the README shows the figure the metadata keeps (123.4 s and 123 s can round apart)
    notebook.metadata.setdefault("course", {})["default_run_seconds"] = seconds
    nbformat.write(notebook, path)
    update_readme_time(path.name, seconds)
    write_student_editions()
    write_guide()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("numbers", nargs="*", help="notebook numbers such as 00 07 (default: all)")
    parser.add_argument("--mode", choices=["default", "smoke"], default="default")
    parser.add_argument("--no-save", action="store_true", help="execute only; write nothing")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--seed", type=int, help="run with this seed instead of the notebook's own (sets COURSE_SEED); "
                                                 "never stored in notebooks/, use --out to keep the executed copy")
    parser.add_argument("--out", type=Path, help="write each executed notebook into this folder instead of notebooks/")
    args = parser.parse_args(argv)
    if args.seed is not None and args.seed < 0:
        parser.error("--seed must be a non-negative integer")
    paths = notebook_paths(REPO)
    if args.numbers:
        wanted = {n.zfill(2) for n in args.numbers}
        paths = [p for p in paths if p.name[:2] in wanted]
        missing = wanted - {p.name[:2] for p in paths}
        if missing:
            raise SystemExit(f"no notebook numbered {', '.join(sorted(missing))} in {NOTEBOOKS}")
    store = not args.no_save and args.out is None
    if store and (args.mode != "default" or args.seed is not None):
        raise SystemExit("stored outputs come from default mode with the notebook's own seed; "
                         "add --no-save or --out DIR for other runs")
    for path in paths:
        notebook, seconds = execute(path, args.mode, args.timeout, args.seed)
        seed_note = "" if args.seed is None else f", seed {args.seed}"
        print(f"{path.name}: {seconds:.1f} s in {args.mode} mode{seed_note}", flush=True)
        if store:
            record_default_run_time(path, seconds, notebook)
        elif args.out is not None and not args.no_save:
            args.out.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, args.out / path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
