"""The notebook template: create a new chapter, or re-sync every notebook's badge and setup cell.

    python -m tools.notebook_template new 13 "Transformers"   # notebooks/13_transformers.ipynb
    python -m tools.notebook_template sync                    # after changing helpers/course.py

The repository address and the setup cell are defined once, in ``helpers/course.py``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from helpers.course import KERNELSPEC, SETUP_CELL, SETUP_CELL_TAGS, colab_badge, notebook_paths

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
BADGE_PATTERN = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
_LABELLED = re.compile(r"\*\*([^*]+?):\*\*\s*(.*?)(?=\n\s*\*\*[^*]+?:\*\*|\n\s*\n|\Z)", re.S)


def title_cell(number: int, title: str, filename: str) -> str:
    """The title cell's skeleton: number and title, badge, promise, prerequisites, goals, run time."""
    return f"""# {number:02d} · {title}

{colab_badge(filename)}

TODO: one paragraph: what the reader will be able to do at the end, and why it matters.

**Prerequisites:** TODO
**You will learn to:** TODO
**Run time:** TODO (measure it: `make outputs NB=NN`; 2-core laptop CPU); less on a GPU. Smoke mode (CI): under a minute."""


def title_fields(source: str) -> dict[str, str]:
    """A title cell's title and its labelled paragraphs as written (line breaks and links untouched):
    ``**Prerequisites:** ...`` -> {"Prerequisites": ...}, plus {"title": "01 · Gradient descent"}."""
    fields = {label.strip(): text.strip() for label, text in _LABELLED.findall(source)}
    fields["title"] = " ".join(source.splitlines()[0].lstrip("# ").split())
    return fields


def new_notebook(number: int, title: str) -> Path:
    """Write the skeleton of a new chapter with every section CONTRIBUTING.md asks for.

    Every spot to fill in says TODO, so the hygiene tests fail until the chapter is written."""
    filename = f"{number:02d}_{re.sub(r'[^a-z0-9]+', '_', title.lower()).strip('_')}.ipynb"
    path = NOTEBOOKS / filename
    if path.exists():
        raise FileExistsError(f"{path} exists already")
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md(title_cell(number, title, filename)),
        code(SETUP_CELL, metadata={"tags": list(SETUP_CELL_TAGS)}),
        md("## Settings\n\nEvery size that a GPU user may scale up lives in the next cell."),
        code("EPOCHS = settings.pick(default=5, smoke=1)"),
        md("## 1. The idea\n\nTODO: prose and the maths in LaTeX."),
        md("## 2. From scratch"),
        md("## 3. Check it against Keras"),
        md("## 4. Experiment on real data"),
        md("## Common pitfalls"),
        md("## Exercises\n\n1. TODO"),
        code("# TODO: solution to exercise 1", metadata={"jupyter": {"source_hidden": True}, "tags": ["solution"]}),
        md("## Summary\n\n- TODO\n\nNext: TODO"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    nbformat.write(notebook, path)
    return path


def sync(path: Path) -> bool:
    """Rewrite one notebook's badge, setup cell and kernelspec from helpers/course.py; True if anything changed."""
    notebook = nbformat.read(path, as_version=4)
    title = notebook.cells[0]
    setup = next(c for c in notebook.cells if c.cell_type == "code")
    before = (title.source, setup.source, setup.metadata.get("tags"), dict(notebook.metadata.get("kernelspec", {})))
    title.source = BADGE_PATTERN.sub(colab_badge(path.name).replace("\\", "\\\\"), title.source)
    setup.source = SETUP_CELL
    setup.metadata["tags"] = list(SETUP_CELL_TAGS)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    changed = before != (title.source, setup.source, setup.metadata.get("tags"), dict(notebook.metadata.kernelspec))
    if changed:
        nbformat.write(notebook, path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="create notebooks/NN_title.ipynb from the template")
    new.add_argument("number", type=int)
    new.add_argument("title")
    commands.add_parser("sync", help="re-sync every notebook's Colab badge, setup cell and kernelspec")
    args = parser.parse_args(argv)
    if args.command == "new":
        print(new_notebook(args.number, args.title))
    else:
        for path in notebook_paths(NOTEBOOKS.parent):
            if sync(path):
                print(f"updated {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
