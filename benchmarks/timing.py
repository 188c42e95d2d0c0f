"""Side-by-side timing: alternate the variants so machine noise hits them alike, report medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_rates(variants: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    """Run each variant ``repeats`` times, interleaved (A, B, A, B, ...); each call returns how many
    items it processed. Returns the median items per second of each variant."""
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, work in variants.items():
            start = time.perf_counter()
            items = work()
            rates[name].append(items / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}
