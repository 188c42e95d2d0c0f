"""helpers.course: one repository address feeds the badges and the setup cell."""

from helpers import course


def test_setup_cell_installs_from_the_repository_on_colab_only():
    assert f"git+{course.REPOSITORY_URL}@{course.BRANCH}" in course.SETUP_CELL
    assert 'if "google.colab" in sys.modules:' in course.SETUP_CELL
    assert course.SETUP_CELL.rstrip().endswith("settings = helpers.setup(seed=42)")


def test_badge_opens_the_notebook_from_github():
    badge = course.colab_badge("00_setup_and_tour.ipynb")
    assert f"github/{course.REPOSITORY}/blob/{course.BRANCH}/notebooks/00_setup_and_tour.ipynb" in badge
    assert badge.startswith("[![Open In Colab]")


def test_curriculum_numbers_the_chapters():
    assert sorted(course.CURRICULUM) == list(range(15))
    assert all(stem == stem.lower() and " " not in stem for stem in course.CURRICULUM.values())


def test_notebook_paths_lists_the_numbered_chapters_in_order(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for name in ("02_b.ipynb", "00_a.ipynb", "1_misnumbered.ipynb", "notes.ipynb", "03_c.txt"):
        (tmp_path / "notebooks" / name).write_text("{}")
    assert [p.name for p in course.notebook_paths(tmp_path)] == ["00_a.ipynb", "02_b.ipynb"]
    assert [p.name[:2] for p in course.notebook_paths()] == [f"{n:02d}" for n in sorted(course.CURRICULUM)]
