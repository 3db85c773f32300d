#!/usr/bin/env python3
"""Times the Python prometheus_client parser (the seed system's) on the inputs
that `cargo bench --bench parse` writes to target/parse_shapes/<shape>.txt.

    cargo bench -p keviq-benches --bench parse -- parse_shapes
    python3 benches/parse_python.py [target/parse_shapes]

Prints, per shape, the best and median of 10 timed parses (after one warm-up),
the samples read and MiB/s, in the units criterion prints, so the figures go in
the same table as keviq's and prometheus-parse's.
"""

import pathlib
import statistics
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

RUNS = 10


def parse(text):
    return sum(len(f.samples) for f in text_string_to_metric_families(text))


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/parse_shapes")
    files = sorted(root.glob("*.txt"))
    if not files:
        print(f"no inputs under {root}: run the parse bench first", file=sys.stderr)
        return 1
    for path in files:
        text = path.read_text()
        samples = parse(text)
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            parse(text)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        mib_s = len(text.encode()) / median / 2**20
        print(
            f"python_prometheus_client/{path.stem}: {len(text.encode())} bytes, "
            f"{samples} samples, median {median * 1e3:.2f} ms, best {min(times) * 1e3:.2f} ms, "
            f"{mib_s:.2f} MiB/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
