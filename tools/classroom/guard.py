"""Guard for a graded submission's kernel: copied into the sandbox as ``sitecustomize.py``.

Python runs ``sitecustomize`` at start-up in every interpreter whose ``sys.path`` holds the sandbox's guard
folder: the grading kernel and any Python process it starts. It installs an audit hook (PEP 578; a hook
cannot be removed once installed) that refuses, with ``PermissionError``:

- creating, writing, truncating, deleting, renaming, moving or re-permissioning anything under the
  protected folders (``COURSE_GRADER_PROTECT``, separated by ``os.pathsep``: the course tree);
- starting a process other than a guarded Python (no shell, no ``rm``; a Python child must keep the guard:
  no ``-I``/``-S``/``-E`` and the guard folder on its ``PYTHONPATH``).

Reading is allowed everywhere (the submission needs the data and the installed packages). This stops the
accidents and casual mischief a class produces (``shutil.rmtree("..")``, ``os.system("rm -rf ~")``); it is
not a security boundary against a determined attacker (``ctypes`` can call the C library directly), which
is why the grader also compares the course tree before and after the run, and why a course grading
untrusted work at scale runs the grader as an unprivileged user or in a container (docs/teaching.md).
"""

from __future__ import annotations

import os
import sys

_PROTECTED = tuple(os.path.realpath(p) for p in os.environ.get("COURSE_GRADER_PROTECT", "").split(os.pathsep) if p)
_GUARD_DIR = os.path.dirname(os.path.realpath(__file__))
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Audit events whose arguments name paths that the event changes: event -> positions of (path, dir_fd) pairs.
_PATH_EVENTS = {
    "os.remove": ((0, 1),), "os.rmdir": ((0, 1),), "os.mkdir": ((0, 2),), "os.chmod": ((0, 2),),
    "os.chown": ((0, 3),), "os.utime": ((0, 3),), "os.truncate": ((0, None),), "os.chflags": ((0, None),),
    "os.setxattr": ((0, None),), "os.removexattr": ((0, None),), "os.rename": ((0, 2), (1, 3)),
    "os.link": ((0, 2), (1, 3)), "os.symlink": ((1, 2),), "shutil.rmtree": ((0, 1),), "shutil.move": ((0, None), (1, None)),
    "shutil.copyfile": ((1, None),), "shutil.copytree": ((1, None),), "shutil.chown": ((0, None),),
}
_SPAWN_EVENTS = ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "pty.spawn")


def _resolve(path, dir_fd=None) -> str | None:
    if isinstance(path, int):                                  # an open file descriptor
        try:
            return os.readlink(f"/proc/self/fd/{path}")
        except OSError:
            return None
    path = os.fsdecode(os.fspath(path))
    if not os.path.isabs(path) and isinstance(dir_fd, int):
        base = _resolve(dir_fd)
        path = os.path.join(base, path) if base else path
    return os.path.realpath(os.path.abspath(path))


def _protected(path, dir_fd=None) -> bool:
    try:
        resolved = _resolve(path, dir_fd)
    except (TypeError, ValueError):
        return False
    return resolved is not None and any(resolved == p or resolved.startswith(p + os.sep) for p in _PROTECTED)


def _refuse(what: str) -> None:
    raise PermissionError(f"the grader does not allow {what}")


def _python_child_keeps_guard(executable, args, env) -> bool:
    argv = [os.fsdecode(a) for a in (args if isinstance(args, (list, tuple)) else [args])] if args else []
    program = os.path.basename(os.fsdecode(executable) if executable else (argv[0] if argv else ""))
    if not program.startswith("python"):
        return False
    if any(a in ("-I", "-S", "-E") or (a.startswith("-") and not a.startswith("--") and set(a[1:]) & set("ISE"))
           for a in argv[1:2]):
        return False
    if env is None:
        return True
    items = env.items() if hasattr(env, "items") else (str(e).split("=", 1) for e in env)
    paths = [os.fsdecode(v) for k, v in items if os.fsdecode(k) == "PYTHONPATH"]
    return any(_GUARD_DIR in p.split(os.pathsep) for p in paths)


def _hook(event: str, args: tuple) -> None:
    if event == "open":
        path, mode, flags = args
        writes = (mode is not None and any(c in mode for c in "wax+")) or (mode is None and flags & _WRITE_FLAGS)
        if writes and path is not None and _protected(path):
            _refuse(f"writing to the course's files ({path})")
    elif event in _PATH_EVENTS:
        for path_at, fd_at in _PATH_EVENTS[event]:
            dir_fd = args[fd_at] if fd_at is not None and fd_at < len(args) else None
            if path_at < len(args) and args[path_at] is not None and _protected(args[path_at], dir_fd):
                _refuse(f"changing the course's files ({event} {args[path_at]})")
    elif event in _SPAWN_EVENTS:
        if event == "os.system":
            _refuse("shell commands")
        if event == "pty.spawn":
            executable, argv, env = None, args[0], None
        elif event == "os.spawn":                                  # (mode, path, args, env)
            executable, argv, env = args[1], args[2], args[3]
        else:                          # Popen: (executable, args, cwd, env); exec and posix_spawn: (path, args, env)
            executable, argv, env = args[0], args[1], args[-1]
        if not _python_child_keeps_guard(executable, argv, env):
            _refuse(f"starting other programs ({event} {argv!r})")


if _PROTECTED:
    sys.addaudithook(_hook)
