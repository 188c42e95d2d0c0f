"""Build the course as a website from the notebooks' STORED outputs (nothing is executed, nothing downloaded).

    python -m tools.book                  # every notebook in notebooks/ -> build/book/html (make book)
    python -m tools.book 00 12            # only some chapters (quicker while editing the book itself)
    python -m tools.book --out /tmp/site  # elsewhere

Sphinx + MyST-NB + sphinx-book-theme (requirements-book.txt). This module stages the pages in
``<out>/src`` and runs Sphinx on them with the configuration in ``book/conf.py``:

- every ``notebooks/NN_*.ipynb`` that exists (so a chapter added or re-stored is picked up), unchanged except
  for what a web page needs: the Colab badge points at a local image (no remote resource on any page), a
  download link to the untouched notebook is added under it, exercise solutions (cells tagged ``solution``)
  are tagged ``hide-cell`` so they are collapsed behind a "Show the worked solution" toggle, other cells with a
  hidden source get ``hide-input``, every figure gets alt text (the figure's titles from the cell's code, else
  the sentence before it), and links to repository files outside the book point at GitHub;
- the home page: ``book/intro.md`` and the course map (chapter titles and prerequisites from the title cells,
  topics from the README's map, run times from each notebook's metadata ``course.default_run_seconds``);
- the helpers' API reference (autodoc of every ``helpers`` module), ``data/README.md``,
  ``docs/benchmarks.md`` and ``docs/teaching.md`` when they exist, with the repository images they show
  (the benchmark figures) copied beside them.
"""

from __future__ import annotations

import argparse
import ast
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.course import BRANCH, REPOSITORY_URL, colab_url, notebook_paths
from tools.notebook_template import title_fields
from tools.run_notebooks import format_run_time

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
DEFAULT_OUT = REPO / "build" / "book"
BADGE_IMAGE = "colab-badge.svg"
NOTEBOOK_COPIES = "_notebooks"

# Repository files shown as pages of the book: repository path -> page name at the site's root.
REFERENCE_PAGES = {
    "data/README.md": "data.md",
    "docs/benchmarks.md": "benchmarks.md",
    "docs/teaching.md": "teaching.md",
}
BADGE_PATTERN = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)")
LINK_PATTERN = re.compile(r"(\]\()([^)\s]+)(\))")
IMAGE_PATTERN = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
SOLUTION_PROMPTS = {"code_prompt_show": "Show the worked solution", "code_prompt_hide": "Hide the solution"}


@dataclass
class Chapter:
    """One chapter of the course map."""

    number: int
    name: str  # file name, NN_stem.ipynb
    title: str
    prerequisites: str
    run_seconds: float | None


# ---------------------------------------------------------------------------------------------- links


def rewrite_links(markdown: str, source: str, pages: dict[str, str]) -> str:
    """Point the relative links of ``markdown`` (a file at repository path ``source``) at the book.

    A link to a repository file that is a page of the book (``pages``: repository path -> page name) becomes
    a link to that page; any other relative link (code, CONTRIBUTING.md, a folder) goes to GitHub, so no link
    of the site points at a file the site does not have. Web addresses and in-page anchors are kept."""

    def replace(match: re.Match) -> str:
        target = match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith(("#", "/", "{")):
            return match.group(0)
        if target == BADGE_IMAGE or target.startswith(NOTEBOOK_COPIES + "/"):
            return match.group(0)
        path, _, fragment = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(source), path)).replace(os.sep, "/")
        if resolved in pages:
            new = pages[resolved] + (f"#{fragment}" if fragment else "")
        else:
            kind = "tree" if (REPO / resolved).is_dir() else "blob"
            new = f"{REPOSITORY_URL}/{kind}/{BRANCH}/{resolved}" + (f"#{fragment}" if fragment else "")
        return f"{match.group(1)}{new}{match.group(3)}"

    return LINK_PATTERN.sub(replace, markdown)


def stage_images(markdown: str, source: str, page: str, src: Path) -> dict[str, str]:
    """Copy the repository images that ``markdown`` (the file at repository path ``source``, staged as ``page``)
    shows into the site beside the page; return repository path -> site path for each, so its links stay local."""
    staged = {}
    for target in IMAGE_PATTERN.findall(markdown):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("/"):
            continue
        repo_path = os.path.normpath(os.path.join(os.path.dirname(source), target)).replace(os.sep, "/")
        if (REPO / repo_path).is_file():
            site_path = os.path.normpath(os.path.join(os.path.dirname(page), target)).replace(os.sep, "/")
            (src / site_path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / repo_path, src / site_path)
            staged[repo_path] = site_path
    return staged


# ------------------------------------------------------------------------------------------- alt text


def _plain(text: str) -> str:
    """Markdown sentence -> plain text for an alt attribute (links, emphasis, code marks and $ removed)."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`$]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def titles_in_code(source: str) -> list[str]:
    """String titles a cell gives its figure: set_title/suptitle/title/plt.title and title=/suptitle= keywords."""
    try:
        tree = ast.parse(re.sub(r"^\s*[%!].*$", "", source, flags=re.MULTILINE))
    except SyntaxError:
        return []
    found: list[str] = []

    def text_of(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):  # f-string: keep its literal parts, the values become "…"
            return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
        return None

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        candidates = []
        if name in ("set_title", "suptitle", "title") and node.args:
            candidates.append(node.args[0])
        candidates += [k.value for k in node.keywords if k.arg in ("title", "suptitle")]
        for candidate in candidates:
            text = text_of(candidate)
            if text and text.strip() and text.strip() not in found:
                found.append(re.sub(r"\s+", " ", text.replace("$", "")).strip())
    return found


def alt_text(cell_source: str, previous_markdown: str, chapter_title: str) -> str:
    """Alt text for the figures of one code cell: their titles when the code sets them, else the last
    sentence of the markdown before the cell, else the chapter's name."""
    titles = titles_in_code(cell_source)
    if titles:
        text = "Figure: " + "; ".join(titles[:6])
    else:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", _plain(previous_markdown)) if len(s) > 3]
        text = f"Figure: {sentences[-1]}" if sentences else f"Figure of chapter {chapter_title}"
    return text if len(text) <= 300 else text[:297] + "..."


# ------------------------------------------------------------------------------------------- notebooks


def read_chapter(path: Path) -> Chapter:
    """Title, prerequisites and recorded run time of one notebook."""
    notebook = nbformat.read(path, as_version=4)
    fields = title_fields(notebook.cells[0].source)
    prerequisites = " ".join(fields.get("Prerequisites", "").split())
    seconds = notebook.metadata.get("course", {}).get("default_run_seconds")
    return Chapter(int(path.name[:2]), path.name, fields["title"], prerequisites, seconds)


def collapsed_markdown(source: str, kind: str) -> str:
    """A markdown cell the notebook hides (a written answer, a grading rubric) behind a closed toggle; the
    same <details> element as MyST-NB's collapsed code cells, so it looks and opens the same way."""
    show, hide = {"solution": (SOLUTION_PROMPTS["code_prompt_show"], SOLUTION_PROMPTS["code_prompt_hide"]),
                  "rubric": ("Show the grading rubric", "Hide the rubric")}.get(kind, ("Show hidden text", "Hide"))
    return (f'<details class="hide above-input book-collapsed">\n<summary aria-label="Toggle hidden content">\n'
            f'<p class="collapsed admonition-title">{show}</p>\n<p class="expanded admonition-title">{hide}</p>\n'
            f"</summary>\n\n{source}\n\n</details>")


def stage_notebook(path: Path, target: Path, pages: dict[str, str], title: str) -> dict[str, int]:
    """Write the web version of one notebook to ``target``; return counts of what was changed."""
    notebook = nbformat.read(path, as_version=4)
    counts = {"solutions": 0, "hidden_inputs": 0, "figures_with_alt": 0}
    previous_markdown = ""
    download = f"{{download}}`Download the notebook (.ipynb) <{NOTEBOOK_COPIES}/{path.name}>`"
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            source = rewrite_links(cell.source, f"notebooks/{path.name}", pages)
            if index == 0:
                source, n = BADGE_PATTERN.subn(
                    lambda m: f"[![Open in Colab]({BADGE_IMAGE})]({m.group(1)}) · {download}", source)
                if n == 0:  # no badge in the title cell: still offer Colab and the download
                    source = source.replace("\n", f"\n\n[![Open in Colab]({BADGE_IMAGE})]({colab_url(path.name)})"
                                                  f" · {download}\n", 1)
            tags = cell.metadata.get("tags", [])
            if "solution" in tags or "rubric" in tags or cell.metadata.get("jupyter", {}).get("source_hidden"):
                source = collapsed_markdown(source, "solution" if "solution" in tags else
                                            "rubric" if "rubric" in tags else "hidden")
                counts["solutions" if "solution" in tags else "hidden_inputs"] += 1
            cell.source = source
            previous_markdown = cell.source
            continue
        if cell.cell_type != "code":
            continue
        tags = list(cell.metadata.get("tags", []))
        hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
        mystnb = dict(cell.metadata.get("mystnb", {}))
        if "solution" in tags:
            tags.append("hide-cell")
            mystnb.update(SOLUTION_PROMPTS)
            counts["solutions"] += 1
        elif hidden:
            tags.append("hide-input")
            counts["hidden_inputs"] += 1
        if any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
               for o in cell.get("outputs", [])):
            mystnb["image"] = {**mystnb.get("image", {}), "alt": alt_text(cell.source, previous_markdown, title)}
            counts["figures_with_alt"] += 1
        if mystnb:
            cell.metadata["mystnb"] = mystnb
        cell.metadata["tags"] = tags
    nbformat.write(notebook, target)
    return counts


# ------------------------------------------------------------------------------------------ home page


def readme_topics() -> dict[str, str]:
    """Topics column of the README's course map, by notebook file name."""
    topics = {}
    readme = REPO / "README.md"
    if readme.is_file():
        for line in readme.read_text(encoding="utf-8").splitlines():
            match = re.match(r"\|\s*\d\d\s*\|\s*\[[^\]]*\]\(notebooks/([^)]+)\)\s*\|(.*?)\|", line)
            if match:
                topics[match.group(1)] = match.group(2).strip()
    return topics


def home_page(chapters: list[Chapter], pages: dict[str, str], reference: list[str]) -> str:
    """index.md: the introduction, the course map, the student-edition note and the table of contents."""
    intro = (BOOK / "intro.md").read_text(encoding="utf-8").rstrip()
    topics = readme_topics()
    rows, covers = [], []
    for chapter in chapters:
        prerequisites = rewrite_links(chapter.prerequisites, f"notebooks/{chapter.name}", pages) or "none"
        cells = [
            f"[{chapter.title}]({chapter.name})",
            "not measured" if chapter.run_seconds is None else format_run_time(chapter.run_seconds),
            f"[![Open in Colab]({BADGE_IMAGE})]({colab_url(chapter.name)})",
            prerequisites,
        ]
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        if topics.get(chapter.name):
            covers += [f"[{chapter.title}]({chapter.name})", f": {topics[chapter.name]}", ""]
    student = sorted((REPO / "student").glob("*.ipynb")) if (REPO / "student").is_dir() else []
    if student:
        edition = (f"A student edition (answers replaced by stubs, hidden tests removed) exists for {len(student)} of "
                   f"the chapters: [student/ in the repository]({REPOSITORY_URL}/tree/{BRANCH}/student).")
    else:
        edition = ("A student edition (the same chapters with the answers replaced by stubs) does not exist yet: "
                   "the exercises are getting their classroom markup first.")
    lines = [
        intro, "", edition, "", "## Course map", "",
        "CPU time is each notebook's recorded default-mode run time on a 2-core CPU (from its metadata).", "",
        "```{table}", ":class: course-map", "",
        "| Chapter | CPU time | Colab | Prerequisites |", "|---|---|---|---|", *rows, "```", "",
    ]
    if covers:
        lines += ["## What each chapter covers", "", *covers]
    lines += ["```{toctree}", ":hidden:", ":caption: Chapters", "", *[c.name[:-6] for c in chapters], "```", ""]
    lines += ["```{toctree}", ":hidden:", ":caption: Reference", "", *reference, "```", ""]
    return "\n".join(lines)


def api_page() -> str:
    """api.rst: autodoc of every module of the helpers package."""
    import helpers

    modules = sorted(m.name for m in pkgutil.iter_modules(helpers.__path__) if not m.name.startswith("_"))
    parts = [
        "Helpers API reference", "=====================", "",
        "The notebooks' shared library, ``helpers/`` (``import helpers``), generated from its docstrings. "
        "The package imports the names most chapters use (``helpers.setup``, ``helpers.load_mnist``, "
        "``helpers.check_parity``, ...); the modules below define them.", "",
    ]
    for name in modules:
        parts += [f"``helpers.{name}``", "-" * (len(name) + 12), "", f".. automodule:: helpers.{name}", ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------- build


def stage(src: Path, only: list[str] | None = None) -> dict[str, object]:
    """Write every page of the book into ``src`` (emptied first); return what was staged."""
    if src.exists():
        shutil.rmtree(src)
    (src / NOTEBOOK_COPIES).mkdir(parents=True)
    shutil.copy2(BOOK / BADGE_IMAGE, src / BADGE_IMAGE)
    paths = [p for p in notebook_paths(REPO) if not only or p.name[:2] in only]
    if not paths:
        raise SystemExit(f"no notebook matches {only}")
    pages = {f"notebooks/{p.name}": p.name for p in paths}
    reference_present = {repo: page for repo, page in REFERENCE_PAGES.items() if (REPO / repo).is_file()}
    pages.update(reference_present)
    chapters, totals = [], {"solutions": 0, "hidden_inputs": 0, "figures_with_alt": 0}
    for path in paths:
        chapter = read_chapter(path)
        chapters.append(chapter)
        shutil.copy2(path, src / NOTEBOOK_COPIES / path.name)  # the download: the notebook as committed
        for key, value in stage_notebook(path, src / path.name, pages, chapter.title).items():
            totals[key] += value
    for repo_path, page in reference_present.items():
        text = (REPO / repo_path).read_text(encoding="utf-8")
        images = stage_images(text, repo_path, page, src)  # figures show on the page instead of linking to GitHub
        (src / page).write_text(rewrite_links(text, repo_path, {**pages, **images}), encoding="utf-8")
    (src / "api.rst").write_text(api_page(), encoding="utf-8")
    reference = ["api", *[page[:-3] for page in reference_present.values()]]
    (src / "index.md").write_text(home_page(chapters, pages, reference), encoding="utf-8")
    return {"chapters": [c.name for c in chapters], **totals}


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def build(out: Path = DEFAULT_OUT, only: list[str] | None = None, quiet: bool = False) -> Path:
    """Stage the pages and run Sphinx; return the folder of the site (``<out>/html``)."""
    start = time.perf_counter()
    staged = stage(out / "src", only)
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(BOOK), "-d", str(out / "doctrees"),
               "-E", "-q", str(out / "src"), str(html)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    subprocess.run(command, check=True, env=env)
    seconds = time.perf_counter() - start
    if not quiet:
        print(f"book: {len(staged['chapters'])} chapters, {staged['solutions']} solutions collapsed, "
              f"{staged['figures_with_alt']} figure cells with alt text; built in {seconds:.1f} s; "
              f"site {folder_size(html) / 2**20:.1f} MiB in {html.relative_to(REPO) if html.is_relative_to(REPO) else html}")
    return html


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="*", help="chapter numbers to include (default: every notebook)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="build folder (site in OUT/html)")
    args = parser.parse_args(argv)
    build(args.out.resolve(), [n.zfill(2) for n in args.numbers] or None)


if __name__ == "__main__":
    main()
