"""Write the benchmark report (docs/benchmarks.md by default).

    python -m benchmarks                         # everything (about 85 minutes on 2 cores)
    python -m benchmarks --only anchors          # section 6 alone (about 20 minutes); updates only that section
    python -m benchmarks --notebooks 00,07       # only these notebooks' run times
    python -m benchmarks --no-default-runs       # smoke-mode notebook times only
    python -m benchmarks --quick --output /tmp/report.md   # tiny sizes: checks the code, not the machine

Every figure in the report comes from the run that wrote it. Variants compared with each other run
interleaved in the same process, and the report gives medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from helpers.course import notebook_paths

REPO = Path(__file__).resolve().parent.parent


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def machine_section() -> str:
    """The machine's description (CPU, cores, versions, GPUs)."""
    from benchmarks import machine

    return table(["machine", ""], [[k, v] for k, v in machine.describe().items()])


def notebook_section(numbers: list[str] | None, smoke_repeats: int, default_runs: bool) -> str:
    """Section 1: smoke (median of ``smoke_repeats``) and default-mode run time and peak memory per notebook."""
    from benchmarks.notebook_runs import run_once
    from tools.run_notebooks import record_default_run_time

    paths = notebook_paths(REPO)
    if numbers is not None:
        paths = [p for p in paths if p.name[:2] in numbers]
    rows = []
    for path in paths:
        smoke = [run_once(path, "smoke") for _ in range(smoke_repeats)]
        default = run_once(path, "default") if default_runs else None
        if default:
            record_default_run_time(path, default["seconds"])  # the README course map shows this figure
        rows.append([path.name, f"{statistics.median(r['seconds'] for r in smoke):.1f}",
                     f"{default['seconds']:.0f}" if default else "not run",
                     f"{max(r['peak_rss_mib'] for r in smoke + ([default] if default else [])):.0f}"])
        print(f"  {path.name}: {rows[-1][1:]}", flush=True)
    return ("## 1. Notebook run times\n\nSmoke: median of " f"{smoke_repeats} runs; default: one run; "
            "peak resident memory of the kernel over those runs. The default-mode figures also go into the "
            "notebooks' metadata and the README's course map.\n\n"
            + table(["notebook", "smoke (s)", "default (s)", "peak RSS (MiB)"], rows))


def dqn_section(quick: bool) -> str:
    """Section 2: environment steps per second of the course's DQN loop against a naive one."""
    from benchmarks import dqn_throughput

    dqn = dqn_throughput.measure(*((100, 50, 1) if quick else (3000, 1000, 3)))
    course, naive = dqn.values()
    return ("## 2. DQN training throughput (CartPole-v1)\n\nSame network, replay buffer, batch size and "
            "one gradient step per environment step; runs interleaved, medians.\n\n"
            + table(["loop", "environment steps / s"], [[k, f"{v:.0f}"] for k, v in dqn.items()])
            + f"\n\n**Course loop / naive loop: {course / naive:.1f}x**")


def measure_cnn(quick: bool) -> dict[str, float]:
    """One measurement feeds sections 3 and 4: the MNIST CNN's training rate with each input, its FLOP
    rate, and the machine's float32 matrix-multiply rate."""
    from benchmarks import cnn_pipeline, machine
    from helpers.data import load_mnist

    (x, y), _ = load_mnist(mode="smoke" if quick else "default")
    x, y = (x[:512], y[:512]) if quick else (x[:20_000], y[:20_000])
    size, repeats = (256, 3) if quick else (2048, 7)
    cnn = cnn_pipeline.measure(x, y, repeats=1 if quick else 3)
    return {**cnn, "images": len(x), "matmul_size": size, "matmul_repeats": repeats,
            "matmul_gflops": machine.matmul_gflops(size, repeats)}


def pipeline_section(cnn: dict[str, float]) -> str:
    """Section 3: training samples per second from a tf.data pipeline and from NumPy arrays."""
    pipeline, arrays = cnn["tf.data (cache, shuffle, batch, prefetch)"], cnn["model.fit(numpy arrays)"]
    return ("## 3. MNIST CNN input pipeline\n\n" f"One epoch over {cnn['images']:,} images, batch 128, after a "
            "warm-up epoch; interleaved, medians.\n\n"
            + table(["input", "training samples / s"], [[k, f"{v:.0f}"] for k, v in
                                                          [("tf.data (cache, shuffle, batch, prefetch)", pipeline),
                                                           ("model.fit(numpy arrays)", arrays)]])
            + f"\n\n**tf.data / numpy arrays: {pipeline / arrays:.2f}x**\n\n"
            "Keras 3's `fit` turns NumPy arrays into a batched, prefetched pipeline of its own, so with "
            "MNIST already in memory there is little for tf.data to add; it pays off when examples are "
            "read from files or need per-example work (decoding, augmentation) that can overlap training.")


def limit_section(cnn: dict[str, float]) -> str:
    """Section 4: the CNN's achieved FLOP rate as a fraction of the machine's matmul rate."""
    size, repeats, peak = cnn["matmul_size"], cnn["matmul_repeats"], cnn["matmul_gflops"]
    return ("## 4. Distance to the machine's limit\n\n"
            f"- CNN forward pass: {cnn['forward_mflops_per_sample']:.1f} MFLOP per image (2 per multiply-add, "
            "Conv2D and Dense layers, from the layer shapes); a training step counted as 3 forward passes.\n"
            f"- Achieved while training: **{cnn['training_gflops']:.1f} GFLOP/s**.\n"
            f"- float32 matmul ({size}² x {size}², median of {repeats}): **{peak:.1f} GFLOP/s**.\n"
            f"- **Fraction of the matmul rate: {cnn['training_gflops'] / peak:.0%}**")


def lstm_section(quick: bool) -> str:
    """Section 5: the character LSTM's epoch cost against sequence length and batch size."""
    from benchmarks import lstm_scaling
    from helpers.data import load_tiny_shakespeare

    text = load_tiny_shakespeare(mode="smoke" if quick else "default")
    characters = 2_000 if quick else 200_000
    repeats = 1 if quick else 3
    grid = [(25, 32)] if quick else [(50, 64), (100, 64), (200, 64), (100, 32), (100, 128)]
    rows = []
    for sequence_length, batch_size in grid:
        cost = lstm_scaling.epoch_cost(text, sequence_length, batch_size, characters, repeats=repeats)
        rows.append([str(sequence_length), str(batch_size), str(cost["batches"]), f"{cost['epoch_seconds']:.2f}",
                     f"{cost['ms_per_batch']:.1f}", f"{cost['characters_per_second']:,.0f}"])
    return ("## 5. Character LSTM: cost against sequence length and batch size\n\n"
            f"Embedding 64, LSTM 256, the same {characters:,} characters of Tiny Shakespeare every "
            f"epoch; median of {repeats} epochs after a warm-up epoch.\n\n"
            + table(["sequence length", "batch size", "batches / epoch", "epoch (s)", "ms / batch",
                     "characters / s"], rows)
            + "\n\nHow to read it: a batch of length-T sequences runs T dependent LSTM steps, so the "
            "time per batch grows in proportion to T. With the characters per epoch fixed, doubling "
            "T halves the number of batches, so an epoch costs about the same: the recurrence runs "
            "characters / batch size steps in sequence whatever T is. A larger batch shortens that "
            "chain and gives each step more parallel work, so characters per second rise with the "
            "batch size (until the cores are busy).")


def anchors_section(quick: bool, report: Path) -> str:
    """Section 6: the course's recipes against the reference recipes (keras.io, TF tutorial, RL Zoo)."""
    from benchmarks import anchors

    return anchors.section(quick, report)


def replace_section(report: Path, text: str) -> None:
    """Put ``text`` (a section starting with its ``## `` heading) into ``report`` in place of the section with
    the same heading, leaving every other section as it is; a new section goes before the closing total line.
    A report that does not exist yet gets the title and the machine table first."""
    heading = text.split("\n", 1)[0]
    if not report.exists():
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text("\n\n".join(["# Benchmarks", machine_section(), text]) + "\n")
        return
    old = report.read_text()
    if heading in old:
        start = old.index(heading)
        ends = [i for i in (old.find("\n## ", start + 1), old.find("\nTotal benchmark time", start)) if i != -1]
        end = min(ends) + 1 if ends else len(old)
        new = old[:start] + text.rstrip() + ("\n\n" + old[end:] if end < len(old) else "\n")
    elif "\nTotal benchmark time" in old:
        at = old.index("\nTotal benchmark time") + 1
        new = old[:at] + text.rstrip() + "\n\n" + old[at:]
    else:
        new = old.rstrip() + "\n\n" + text.rstrip() + "\n"
    report.write_text(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--notebooks", help="comma-separated numbers (default: all); 'none' to skip")
    parser.add_argument("--no-default-runs", action="store_true", help="skip the default-mode notebook runs")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests the code path only)")
    parser.add_argument("--only", choices=["anchors"], help="run this section alone and replace only it in the report")
    args = parser.parse_args(argv)

    import helpers  # noqa: F401  (TensorFlow imported quietly)

    started = time.perf_counter()
    quick = args.quick
    if args.only == "anchors":
        print("against reference recipes ...", flush=True)
        replace_section(args.output, anchors_section(quick, args.output))
        print(f"wrote section 6 of {args.output} ({time.perf_counter() - started:.0f} s)")
        return 0
    sections = ["# Benchmarks\n\nWritten by `python -m benchmarks"
                + (" --quick" if quick else "") + "` on " + time.strftime("%Y-%m-%d") + ".\n",
                machine_section()]

    numbers = None if not args.notebooks else ([] if args.notebooks == "none" else args.notebooks.split(","))
    if quick and numbers is None:
        numbers = ["00"]
    if numbers != []:
        print("notebooks ...", flush=True)
        sections.append(notebook_section(numbers, 1 if quick else 3, not (quick or args.no_default_runs)))
    print("DQN throughput ...", flush=True)
    sections.append(dqn_section(quick))
    print("CNN input pipeline and FLOP rate ...", flush=True)
    cnn = measure_cnn(quick)
    sections += [pipeline_section(cnn), limit_section(cnn)]
    print("LSTM scaling ...", flush=True)
    sections.append(lstm_section(quick))
    print("against reference recipes ...", flush=True)
    sections.append(anchors_section(quick, args.output))
    sections.append(f"Total benchmark time: {time.perf_counter() - started:.0f} s.")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n\n".join(sections) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
