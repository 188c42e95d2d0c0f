"""Per-notebook run time and the kernel's peak memory, each run in its own process.

A run happens in a child process (``python -m benchmarks.notebook_runs PATH MODE``) so that
``RUSAGE_CHILDREN`` of that process covers exactly one kernel: its ``ru_maxrss`` is the kernel's
peak resident memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path


def run_once(path: Path, mode: str) -> dict[str, float]:
    """Execute one notebook (nothing saved) in a fresh process; return seconds and peak kernel RSS (MiB)."""
    completed = subprocess.run([sys.executable, "-m", "benchmarks.notebook_runs", str(path), mode],
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{path.name} failed in {mode} mode:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _child_main(path: str, mode: str) -> None:
    from tools.run_notebooks import execute

    _, seconds = execute(Path(path), mode, timeout=3600)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux reports KiB
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_kib / 1024}))


if __name__ == "__main__":
    _child_main(*sys.argv[1:3])
