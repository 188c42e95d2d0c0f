"""Benchmarks of the course: notebook run times, throughput against naive patterns, distance to the
machine's limit, and the course's recipes against the reference recipes people would use instead
(section 6, ``benchmarks/anchors.py``). Run ``python -m benchmarks`` (see ``benchmarks/__main__.py``); it writes
docs/benchmarks.md. Timings are not tests: only a tiny run of the entry point is tested."""
