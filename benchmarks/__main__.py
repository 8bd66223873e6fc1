"""Run every benchmark: ``python -m benchmarks`` (or ``nox -s bench``)."""

from __future__ import annotations

import importlib

#: Benchmark modules, each with ``main(argv) -> str`` printing a markdown table.
BENCHMARKS = (
    "bench_ids",
    "bench_cohort",
    "bench_analytics",
    "bench_sync",
    "bench_marks",
    "bench_cluster",
    "bench_memory",
    "bench_import",
)


def run_all() -> None:
    for name in BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n## {name}\n")
        module.main([])


if __name__ == "__main__":
    run_all()
