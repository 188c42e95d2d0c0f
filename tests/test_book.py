"""The course as a website (tools/book.py, `make book`): built from the stored notebooks, checked in its HTML and
in a real browser (headless Chromium from the OS packages, driven by selenium through the OS's chromedriver).

The site is built once per session into a temporary folder from the current notebooks (no stale build is
tested). The tests need the book's packages (requirements-book.txt; `make book-test` installs them and runs
this file) and skip without them; the browser tests skip, naming what is missing, only where no Chromium or
chromedriver is installed (.ci/run installs both). Screenshots of three pages go to .ci/artifacts/book/
(git-ignored; BOOK_ARTIFACTS overrides the folder).
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from helpers.course import notebook_paths
from tools import book
from tools.notebook_template import title_fields
from tools.run_notebooks import format_run_time

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("BOOK_ARTIFACTS", REPO / ".ci" / "artifacts" / "book"))
CHAPTERS = [p.name for p in notebook_paths(REPO)]
SEARCH_TERM, SEARCH_CHAPTER = "CartPole", "12_deep_q_networks"  # a chapter-12 term for the search test

# ------------------------------------------------------------------------------------ pure functions


def test_rewrite_links_points_pages_at_the_book_and_other_files_at_github():
    pages = {"notebooks/00_setup_and_tour.ipynb": "00_setup_and_tour.ipynb", "data/README.md": "data.md"}
    text = ("[a](00_setup_and_tour.ipynb) [b](../data/README.md#where) [c](../helpers/plotting.py) "
            "[d](https://keras.io) [e](#local) [f](../notebooks)")
    out = book.rewrite_links(text, "notebooks/01_gradient_descent.ipynb", pages)
    assert "[a](00_setup_and_tour.ipynb)" in out
    assert "[b](data.md#where)" in out
    assert f"[c]({book.REPOSITORY_URL}/blob/{book.BRANCH}/helpers/plotting.py)" in out
    assert "[d](https://keras.io)" in out and "[e](#local)" in out
    assert f"[f]({book.REPOSITORY_URL}/tree/{book.BRANCH}/notebooks)" in out


def test_alt_text_prefers_the_figure_titles_then_the_sentence_before():
    code = 'fig, ax = plt.subplots()\nax.set_title("Loss per step")\nfig.suptitle(f"lr = {lr}")\n%time x = 1'
    assert book.titles_in_code(code) == ["Loss per step", "lr = …"]
    assert book.alt_text(code, "", "01") == "Figure: Loss per step; lr = …"
    prose = "Some context. The **loss** falls as $\\eta$ grows: see [here](x.ipynb)."
    assert book.alt_text("plt.plot(x)", prose, "01") == "Figure: The loss falls as \\eta grows: see here."
    assert book.alt_text("plt.plot(x)", "", "01 · Gradient descent") == "Figure of chapter 01 · Gradient descent"


def test_chapter_facts_come_from_the_title_cell_one_paragraph_per_label():
    """The course map's prerequisites stop at the next label, with or without a blank line before it."""
    for number, (path, chapter) in enumerate((p, book.read_chapter(p)) for p in notebook_paths(REPO)):
        assert chapter.number == number and chapter.title.startswith(f"{number:02d} · "), chapter
        assert chapter.prerequisites and "**" not in chapter.prerequisites, (path.name, chapter.prerequisites)
    cell = "# 07 · X\n\n**Prerequisites:** chapter\n06.\n**You will learn to:**\n- a\n- b\n\n**Run time:** 3 min"
    assert title_fields(cell) == {"title": "07 · X", "Prerequisites": "chapter\n06.",
                                  "You will learn to": "- a\n- b", "Run time": "3 min"}


# ------------------------------------------------------------------------------------------ the site


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    for package in ("sphinx", "myst_nb", "sphinx_book_theme", "mathjax"):
        pytest.importorskip(package, reason=f"{package} is not installed: `make book-test` installs "
                                            "requirements-book.txt and runs these tests")
    return book.build(tmp_path_factory.mktemp("book"), quiet=True)


class _Page(html.parser.HTMLParser):
    """Links, ids, images and resource addresses of one HTML page."""

    def __init__(self):
        super().__init__()
        self.links, self.ids, self.images, self.resources, self.details = [], set(), [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img":
            self.images.append(a)
        if tag == "details":
            self.details.append(a)
        for key in ("src", "href"):
            if tag in ("script", "img", "link", "iframe") and a.get(key):
                self.resources.append(a[key])


@functools.cache
def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_every_notebook_is_a_chapter_page_and_on_the_course_map(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    for name in CHAPTERS:
        notebook = nbformat.read(REPO / "notebooks" / name, as_version=4)
        page = site / f"{name[:-6]}.html"
        assert page.is_file(), f"no page for {name}"
        assert f'href="{name[:-6]}.html"' in home, f"{name} is not on the home page's course map"
        seconds = notebook.metadata.get("course", {}).get("default_run_seconds")
        assert format_run_time(seconds) in home, f"{name}: run time {seconds} s not on the course map"
        title = re.match(r"#\s+(.*)", notebook.cells[0].source).group(1).strip()
        assert title.split(" · ")[-1] in page.read_text(encoding="utf-8")
    for page in ("api", "data", "benchmarks", "search"):
        assert (site / f"{page}.html").is_file()
    assert "helpers.check_parity" in (site / "api.html").read_text(encoding="utf-8")


def test_reference_pages_show_their_repository_images(site):
    """docs/benchmarks.md's figures are images on the benchmarks page, served by the site itself."""
    figures = re.findall(r"!\[[^\]]*\]\((benchmarks/[^)]+\.png)\)", (REPO / "docs" / "benchmarks.md").read_text())
    assert figures, "docs/benchmarks.md shows no figure"
    shown = [image["src"] for image in parse(site / "benchmarks.html").images if image.get("src", "").endswith(".png")]
    assert sorted(Path(src).stem for src in shown) == sorted(Path(figure).stem for figure in figures)
    for src in shown:
        assert (site / urllib.parse.unquote(src)).stat().st_size > 1000, src


def test_no_page_loads_anything_from_another_host(site):
    for page in sorted(site.glob("*.html")):
        remote = [r for r in parse(page).resources if re.match(r"^(https?:)?//", r)]
        assert not remote, f"{page.name} loads remote resources (the site must work offline): {remote}"
    mathjax = site / "_static" / "mathjax" / "tex-svg-full.js"
    assert mathjax.is_file() and mathjax.stat().st_size > 1_000_000


def test_every_internal_link_resolves(site):
    broken = []
    for page in sorted(site.rglob("*.html")):
        for href in parse(page).links:
            if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.IGNORECASE):
                continue  # web addresses, mailto:
            path, _, fragment = urllib.parse.unquote(href).partition("#")
            target = (page.parent / path).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.name}: {href} (no file)")
            elif fragment and target.suffix == ".html" and fragment not in parse(target).ids:
                broken.append(f"{page.name}: {href} (no id {fragment!r})")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:30])


def test_every_figure_has_alt_text_and_solutions_are_collapsed(site):
    for name in CHAPTERS:
        notebook = nbformat.read(REPO / "notebooks" / name, as_version=4)
        page = site / f"{name[:-6]}.html"
        images = parse(page).images
        assert images, f"{name}: no image on its page"
        assert all(img.get("alt", "").strip() for img in images), f"{name}: an image without alt text"
        solutions = sum("solution" in c.metadata.get("tags", []) for c in notebook.cells)
        text = page.read_text(encoding="utf-8")
        assert text.count("Show the worked solution") == solutions, f"{name}: not every solution is collapsed"
        assert not any("open" in d for d in parse(page).details), f"{name}: a collapsed cell is open by default"


def test_chapter_pages_offer_colab_and_the_untouched_notebook(site):
    for name in CHAPTERS:
        links = parse(site / f"{name[:-6]}.html").links
        assert any(h.startswith("https://colab.research.google.com/") and h.endswith(name) for h in links), name
        downloads = [h for h in links if h.startswith("_downloads/") and h.endswith(name)]
        assert downloads, f"{name}: no download link"
        assert (site / downloads[0]).read_bytes() == (REPO / "notebooks" / name).read_bytes(), \
            f"{name}: the download differs from the notebook (was it edited during the build?)"


# --------------------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-book.txt)")
    chromium = os.environ.get("BOOK_BROWSER") or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    driver_path = os.environ.get("BOOK_CHROMEDRIVER") or shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("no browser here: Chromium and chromedriver are not installed "
                    "(Debian: apt-get install chromium chromium-driver; .ci/run does it when it can)")
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium must never try to download a browser or a driver
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(argument)  # the last one: any request to another host fails, as offline
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def load(browser, url: str) -> list[dict]:
    """Open ``url``, wait for MathJax to finish typesetting, return the console's error entries."""
    browser.get_log("browser")  # empty the log of the previous page
    browser.get(url)
    browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const wait = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)
            ? MathJax.startup.promise.then(() => done(true), () => done(false)) : done(true);
        if (document.readyState === 'complete') wait(); else window.addEventListener('load', wait);
    """)
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


RAW_TEX_SCRIPT = r"""
    const untypeset = Array.from(document.querySelectorAll('.math')).filter(
        m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60));
    const copy = document.querySelector('main, article, body').cloneNode(true);
    copy.querySelectorAll('pre, code, mjx-container, script, style, textarea').forEach(n => n.remove());
    const text = copy.textContent;
    const raw = (text.match(/\$\$|\\[()\[\]]|\$[^$\n]{0,80}[\\^_{}][^$\n]{0,80}\$/g) || []).slice(0, 5);
    return {untypeset, raw, typeset: document.querySelectorAll('mjx-container').length};
"""


def site_pages(site: Path) -> list[str]:
    return sorted(p.name for p in site.glob("*.html") if p.name not in ("genindex.html", "py-modindex.html"))


def test_every_page_loads_in_chromium_with_images_and_typeset_maths(site, server, browser):
    problems, typeset = [], {}
    for name in site_pages(site):
        errors = load(browser, server + name)
        problems += [f"{name}: console: {e['message'][:200]}" for e in errors]
        broken = browser.execute_script(
            "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
        problems += [f"{name}: image not loaded: {src}" for src in broken]
        tex = browser.execute_script(RAW_TEX_SCRIPT)
        problems += [f"{name}: maths not typeset: {t!r}" for t in tex["untypeset"][:5]]
        problems += [f"{name}: raw TeX in the text: {t!r}" for t in tex["raw"]]
        typeset[name] = tex["typeset"]
        if name == "01_gradient_descent.html":
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            browser.execute_script("document.querySelector('div.math').scrollIntoView({block: 'start'})")
            browser.save_screenshot(str(ARTIFACTS / "chapter-01-maths.png"))
    assert not problems, "\n".join(problems[:40])
    with_maths = [n for n in typeset if typeset[n] > 0]
    assert len(with_maths) >= len(CHAPTERS) // 2, f"MathJax typeset maths on only {with_maths}"


def test_home_page_screenshot(server, browser):
    assert not load(browser, server + "index.html")
    rows = browser.find_elements("css selector", "table.course-map tbody tr")
    assert len(rows) == len(CHAPTERS)
    browser.execute_script("document.getElementById('course-map').scrollIntoView({block: 'start'})")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "home-course-map.png"))


def test_a_solution_toggle_opens(server, browser):
    assert not load(browser, server + f"{CHAPTERS[0][:-6]}.html")
    toggle = next(d for d in browser.find_elements("css selector", "details.hide")
                  if "Show the worked solution" in d.get_attribute("textContent"))
    code = toggle.find_element("css selector", "pre")
    assert toggle.get_attribute("open") is None and not code.is_displayed()
    summary = toggle.find_element("css selector", "summary")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 5).until(lambda _: code.is_displayed())  # the theme fades the content in
    assert toggle.get_attribute("open") is not None
    assert code.text.strip(), "the opened solution shows no code"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "solution-opened.png"))


def test_search_finds_a_chapter_12_term(site, server, browser):
    if not (site / f"{SEARCH_CHAPTER}.html").is_file():
        pytest.fail(f"{SEARCH_CHAPTER}.ipynb is not in the book")
    assert not load(browser, server + f"search.html?q={SEARCH_TERM}")
    from selenium.webdriver.support.ui import WebDriverWait

    def results(driver):
        links = driver.find_elements("css selector", "#search-results ul li a")
        return [a.get_attribute("href") for a in links] or None

    hrefs = WebDriverWait(browser, 30).until(results)
    assert any(f"{SEARCH_CHAPTER}.html" in h for h in hrefs), f"search for {SEARCH_TERM!r} found {hrefs}"
