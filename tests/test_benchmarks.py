"""The benchmark entry point runs end to end on tiny sizes (timings themselves are not tested)."""

import re
import subprocess
import sys
from pathlib import Path

from benchmarks.__main__ import replace_section

REPO = Path(__file__).resolve().parent.parent
VERDICTS = ("**Verdict (MNIST):**", "**Verdict (CIFAR-10):**", "**Verdict (CartPole DQN):**",
            "**Verdict (characters):**")


def test_quick_benchmark_writes_every_section(tmp_path):
    report = tmp_path / "report.md"
    completed = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--output", str(report)],
                               cwd=REPO, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    text = report.read_text()
    for heading in ("## 1. Notebook run times", "## 2. DQN", "## 3. MNIST CNN", "## 4. Distance", "## 5. Character LSTM",
                    "## 6. Against reference recipes"):
        assert heading in text
    assert "00_setup_and_tour.ipynb" in text and "Course loop / naive loop:" in text
    anchors = text[text.index("## 6. Against reference recipes"):]
    for verdict in VERDICTS:  # one verdict line per comparison, each naming a winner and a ratio
        line = next(line for line in anchors.splitlines() if line.startswith(verdict))
        assert re.search(r"\d\.\d\dx", line) and "Why:" in line
    for figure in ("anchors_mnist.png", "anchors_cifar10.png", "anchors_cartpole.png", "anchors_characters.png"):
        assert f"](report/{figure})" in anchors and (tmp_path / "report" / figure).stat().st_size > 1000
    assert text.rstrip().splitlines()[-1].startswith("Total benchmark time:")


def test_replace_section_leaves_the_other_sections_alone(tmp_path):
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\n## 5. Five\n\nfive\n\nTotal benchmark time: 9 s.\n")
    replace_section(report, "## 6. Against reference recipes\n\nfirst")
    assert report.read_text() == ("# Benchmarks\n\n## 5. Five\n\nfive\n\n## 6. Against reference recipes\n\nfirst\n\n"
                                  "Total benchmark time: 9 s.\n")
    replace_section(report, "## 6. Against reference recipes\n\nsecond")
    assert report.read_text() == ("# Benchmarks\n\n## 5. Five\n\nfive\n\n## 6. Against reference recipes\n\nsecond\n\n"
                                  "Total benchmark time: 9 s.\n")
    report.write_text("# B\n\n## 6. Against reference recipes\n\nold\n\n## 7. Seven\n\nseven\n")
    replace_section(report, "## 6. Against reference recipes\n\nnew")
    assert report.read_text() == "# B\n\n## 6. Against reference recipes\n\nnew\n\n## 7. Seven\n\nseven\n"
