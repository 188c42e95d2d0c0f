"""Sphinx configuration of the course website (built by ``python -m tools.book``, ``make book``).

tools/book.py stages the pages (notebooks with their stored outputs, the home page with the course map, the
reference pages) in a build folder and runs Sphinx on it with ``-c book/``, so this file and ``_static/`` stay
here. Nothing is executed (``nb_execution_mode = "off"``) and nothing is fetched: MathJax is copied into the
site from a pinned wheel (requirements-book.txt), and no page loads a resource from another host.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from helpers.course import BRANCH, REPOSITORY_URL  # noqa: E402

project = "Deep learning with Keras"
author = "the course's contributors"
copyright = "the course's contributors, MIT licence"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
exclude_patterns = ["_notebooks/**", "**/checkpoints/**", "**.ipynb_checkpoints"]

# The stored outputs are the content: never execute a notebook here.
nb_execution_mode = "off"
nb_merge_streams = True
# Maths in markdown cells ($...$, $$...$$, \begin{align}); typeset by the local MathJax below.
myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
myst_dmath_double_inline = True  # $$...$$ inside a paragraph or a list item, as Jupyter renders it
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

# MathJax 3, combined TeX -> SVG component (every TeX extension included, glyphs inside the file, so no
# font or extension is loaded later); copied into _static/mathjax/ after the build (copy_mathjax below).
mathjax_path = "mathjax/tex-svg-full.js"
MATHJAX_FILES = ("es5/tex-svg-full.js", "LICENSE")

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"

html_theme = "sphinx_book_theme"
html_title = "Deep learning with Keras"
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_favicon = "_static/favicon.svg"  # else the browser asks for /favicon.ico and logs a 404
html_context = {"default_mode": "light"}  # the theme logs a console error when no default mode is set
html_last_updated_fmt = None
# Pages link the untouched notebook for download (tools/book.py); copies of the staged sources are not needed.
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "repository_url": REPOSITORY_URL,
    "repository_branch": BRANCH,
    "use_repository_button": True,
    "use_download_button": False,  # each chapter links the untouched notebook itself (tools/book.py)
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}


def mathjax_folder() -> Path:
    """MathJax's distribution inside the pinned django-static-mathjax wheel (requirements-book.txt)."""
    import mathjax  # the wheel's package: static files only, it imports nothing

    folder = Path(mathjax.__file__).resolve().parent / "static" / "mathjax"
    if not (folder / MATHJAX_FILES[0]).is_file():
        raise FileNotFoundError(f"MathJax not found in {folder}: pip install -r requirements-book.txt")
    return folder


def copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    for name in MATHJAX_FILES:
        shutil.copy2(mathjax_folder() / name, target / Path(name).name)
    # The theme's source maps (a third of the site) serve only a developer's debugger.
    for source_map in (Path(app.outdir) / "_static").rglob("*.map"):
        source_map.unlink()


def setup(app):
    mathjax_folder()  # fail at the start of a build, not after it
    app.connect("build-finished", copy_mathjax)
