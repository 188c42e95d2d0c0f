"""What machine a benchmark ran on, and its measured float32 matrix-multiply rate (the ceiling)."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else platform.processor()."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe() -> dict[str, str]:
    """CPU model, cores, Python/TF/Keras versions and the GPUs TensorFlow sees."""
    import helpers  # noqa: F401, I001  (first: imports TensorFlow quietly)
    import keras
    import tensorflow as tf

    from helpers.environment import gpu_names

    return {
        "CPU": cpu_model(),
        "cores": str(os.cpu_count()),
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
        "GPU": ", ".join(gpu_names()) or "none",
    }


def matmul_gflops(size: int = 2048, repeats: int = 7) -> float:
    """Median float32 GFLOP/s of ``size x size`` matrix products (2 n^3 FLOPs each), after a warm-up."""
    import tensorflow as tf

    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    product = tf.function(lambda x, y: tf.linalg.matmul(x, y))
    product(a, b).numpy()  # trace and warm up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        product(a, b).numpy()
        rates.append(2 * size**3 / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)
