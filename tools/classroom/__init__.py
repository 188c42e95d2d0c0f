"""The classroom edition: student notebooks without answers, and an autograder, from the one instructor source.

    python -m tools.classroom student                  # make student: student/NN_name.ipynb for every marked chapter
    python -m tools.classroom student --check          # exit 1 when student/ is out of sync with notebooks/
    python -m tools.classroom grade path/NN_name.ipynb # make grade SUBMISSION=...: score table per exercise
    python -m tools.classroom check                    # the markup of every marked chapter is well formed
    python -m tools.classroom guide [--check]          # the generated exercise tables of docs/teaching.md

The markup is nbgrader's (CONTRIBUTING.md, "Exercises and the classroom markup"), so ``nbgrader validate``,
``generate_assignment`` and ``autograde`` work on the same notebooks; these tools need no JupyterHub, no
gradebook database and no course directory, and they keep every lesson output in the student edition
(nbgrader's ``generate_assignment`` clears them all).

- An **answer cell** (nbgrader ``solution: true``) holds a region between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``; a ``# Hint: ...`` line right after ``### BEGIN SOLUTION`` becomes the message of the
  student stub's ``NotImplementedError``. In the instructor edition it is also tagged ``solution`` with its
  source hidden (the course's convention). A markdown answer cell without a region is replaced whole.
- A **test cell** (``grade: true, solution: false, locked: true, points: N``) is autograded: it scores its
  points when it runs without error. Its ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region is
  removed from the student edition and put back by the grader from the source, as nbgrader's autograde does.
- A **manually graded answer** (``grade: true, solution: true, points: N``) is followed by a markdown cell
  tagged ``rubric`` (metadata ``classroom.rubric_for`` = its ``grade_id``) listing criteria as
  ``- (1 pt) ...`` lines that add up to N points; rubric cells are instructor-only.

Modules: ``markup`` (reading the markup, checking it), ``edition`` (the student edition), ``grader`` (running and
scoring a submission), ``guard`` (the sandbox's audit hook), ``guide`` (docs/teaching.md's generated tables),
``__main__`` (the command line). Everything a caller needs is importable from ``tools.classroom`` itself.
"""

from tools.classroom.edition import (
    BADGE,
    STUDENT_FOLDER,
    TEXT_STUB,
    clear_hidden_tests,
    clear_solutions,
    student_edition,
    student_path,
    student_text,
    write_student_editions,
)
from tools.classroom.grader import (
    CELL_TIMEOUT_S,
    TOTAL_TIMEOUT_S,
    Check,
    Report,
    execute,
    grade,
    snapshot,
    source_for,
    with_instructor_tests,
)
from tools.classroom.markup import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    HINT,
    MIN_AUTOGRADED,
    REPO,
    RUBRIC_LINE,
    course,
    grading,
    is_answer,
    is_manual,
    is_marked,
    is_rubric,
    is_test,
    marked_notebooks,
    markup_problems,
    rubric_points,
    rubrics,
)

__all__ = [
    "BADGE", "BEGIN_HIDDEN", "BEGIN_SOLUTION", "CELL_TIMEOUT_S", "END_HIDDEN", "END_SOLUTION", "HINT", "MIN_AUTOGRADED",
    "REPO", "RUBRIC_LINE", "STUDENT_FOLDER", "TEXT_STUB", "TOTAL_TIMEOUT_S", "Check", "Report", "clear_hidden_tests",
    "clear_solutions", "course", "execute", "grade", "grading", "is_answer", "is_manual", "is_marked",
    "is_rubric", "is_test", "marked_notebooks", "markup_problems", "rubric_points", "rubrics", "snapshot",
    "source_for", "student_edition", "student_path", "student_text", "with_instructor_tests",
    "write_student_editions",
]
