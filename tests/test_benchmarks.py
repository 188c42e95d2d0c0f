"""The benchmark entry point runs end to end on tiny sizes (timings themselves are not tested)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_quick_benchmark_writes_every_section(tmp_path):
    report = tmp_path / "report.md"
    completed = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--output", str(report)],
                               cwd=REPO, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    text = report.read_text()
    for heading in ("## 1. Notebook run times", "## 2. DQN", "## 3. MNIST CNN", "## 4. Distance", "## 5. Character LSTM"):
        assert heading in text
    assert "00_setup_and_tour.ipynb" in text and "Course loop / naive loop:" in text
