"""``python -m tools.classroom student|check|grade ...`` (``make student``, ``make grade SUBMISSION=...``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

import tools.classroom as classroom
from tools.classroom.edition import write_student_editions
from tools.classroom.grader import CELL_TIMEOUT_S, TOTAL_TIMEOUT_S, grade
from tools.classroom.guide import GUIDE, write_guide
from tools.classroom.markup import REPO, marked_notebooks, markup_problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.classroom", description=classroom.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write student/ from the marked chapters (make student)")
    student.add_argument("--check", action="store_true", help="only report; exit 1 when student/ is out of sync")
    student.add_argument("--root", type=Path, default=REPO, help="course tree holding notebooks/ (default: this one)")
    check = commands.add_parser("check", help="check the classroom markup of every marked chapter")
    check.add_argument("--root", type=Path, default=REPO)
    guide = commands.add_parser("guide", help="rewrite the generated blocks of docs/teaching.md")
    guide.add_argument("--check", action="store_true", help="only report; exit 1 when they are out of date")
    guide.add_argument("--root", type=Path, default=REPO)
    graded = commands.add_parser("grade", help="grade a submission (make grade SUBMISSION=path.ipynb)")
    graded.add_argument("submission", type=Path)
    graded.add_argument("--source", type=Path, help="instructor notebook (default: the marked chapter of that name)")
    graded.add_argument("--root", type=Path, default=REPO)
    graded.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT_S, help="seconds per cell")
    graded.add_argument("--timeout", type=float, default=TOTAL_TIMEOUT_S, help="seconds for the whole submission")
    args = parser.parse_args(argv)

    if args.command == "student":
        differences = write_student_editions(args.root.resolve(), check=args.check)
        marked = marked_notebooks(args.root.resolve())
        for line in differences:
            print(("out of sync: " if args.check else "wrote: ") + line)
        print(f"{len(marked)} marked chapter(s); student edition {'in sync' if not differences else 'updated'}"
              if not args.check or not differences else "run `make student` and commit student/")
        return 1 if args.check and differences else 0
    if args.command == "guide":
        stale = write_guide(args.root.resolve(), check=args.check)
        if args.check:
            print(f"{GUIDE}: " + ("out of date: run `python -m tools.classroom guide`" if stale else "in sync"))
            return int(stale)
        print(f"{GUIDE}: " + ("rewritten" if stale else "already in sync"))
        return 0
    if args.command == "check":
        status = 0
        for path in marked_notebooks(args.root.resolve()):
            problems = markup_problems(nbformat.read(path, as_version=4))
            print(f"{path.name}: " + ("ok" if not problems else "\n  " + "\n  ".join(problems)))
            status |= bool(problems)
        return status
    if not args.submission.is_file():
        parser.error(f"no such submission: {args.submission}")
    try:
        report = grade(args.submission, args.source, args.root, args.cell_timeout, args.timeout)
    except FileNotFoundError as error:
        parser.error(str(error))
    print(f"{args.submission.name}, graded against {report.source.name} in smoke mode "
          f"({args.cell_timeout:g} s per cell, {args.timeout:g} s in all; took {report.seconds:.0f} s)\n")
    print(report.table())
    return 2 if report.course_changes else 0


if __name__ == "__main__":
    sys.exit(main())
