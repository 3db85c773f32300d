#!/usr/bin/env python3
"""One SVG line plot per criterion group, from criterion's estimates.

Reads `<criterion dir>/<group>/<library>/<x>/new/estimates.json` (the layout
`BenchmarkId::new(library, x)` gives, as in benches/benches/scaling.rs) and
writes `<out dir>/<group>.svg`: x (series, threads, label sets) against the
median time, both on log scales, one line per library. No dependencies beyond
Python 3.

    python3 benches/plot.py [--criterion target/criterion] [--out .] \
        threads_inc lookup_scaling render_scaling

Plots are generated output: commit them next to BENCHMARKS.md from the lead's
final run, not from a development run.
"""

import argparse
import json
import math
import pathlib
import sys

W, H = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 80, 150, 40, 50
COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f"]
UNITS = [(1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms"), (1.0, "s")]


def load(group_dir):
    """{library: [(x, median seconds)]}, each list sorted by x."""
    lines = {}
    for est in sorted(group_dir.glob("*/*/new/estimates.json")):
        x_dir = est.parent.parent
        try:
            x = float(x_dir.name)
        except ValueError:
            continue
        median_ns = json.loads(est.read_text())["median"]["point_estimate"]
        lines.setdefault(x_dir.parent.name, []).append((x, median_ns * 1e-9))
    return {lib: sorted(points) for lib, points in lines.items()}


def fmt_time(seconds):
    scale, unit = UNITS[0]
    for s, u in UNITS:
        if seconds >= s:
            scale, unit = s, u
    return f"{seconds / scale:.3g} {unit}"


def fmt_x(x):
    return f"{x:,.0f}"


def plot(group, lines):
    xs = [x for points in lines.values() for x, _ in points]
    ys = [y for points in lines.values() for _, y in points]
    lx0, lx1 = math.log10(min(xs)), math.log10(max(xs))
    ly0, ly1 = math.log10(min(ys)), math.log10(max(ys))
    if lx1 == lx0:
        lx0, lx1 = lx0 - 0.5, lx1 + 0.5
    if ly1 == ly0:
        ly0, ly1 = ly0 - 0.5, ly1 + 0.5
    ly0, ly1 = ly0 - 0.05 * (ly1 - ly0), ly1 + 0.05 * (ly1 - ly0)

    def px(x):
        return LEFT + (math.log10(x) - lx0) / (lx1 - lx0) * (W - LEFT - RIGHT)

    def py(y):
        return H - BOTTOM - (math.log10(y) - ly0) / (ly1 - ly0) * (H - TOP - BOTTOM)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">{group}</text>',
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="black"/>',
    ]
    for x in sorted(set(xs)):
        out.append(
            f'<text x="{px(x):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{fmt_x(x)}</text>'
        )
    for e in range(math.floor(ly0), math.ceil(ly1) + 1):
        for m in (1, 2, 5):
            y = m * 10.0**e
            if ly0 <= math.log10(y) <= ly1:
                out.append(
                    f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{W - RIGHT}" y2="{py(y):.1f}" '
                    f'stroke="#ddd"/>'
                )
                out.append(
                    f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{fmt_time(y)}</text>'
                )
    for i, (lib, points) in enumerate(sorted(lines.items())):
        color = COLORS[i % len(COLORS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in points:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        ly = TOP + 10 + 18 * i
        out.append(
            f'<line x1="{W - RIGHT + 10}" y1="{ly}" x2="{W - RIGHT + 30}" y2="{ly}" '
            f'stroke="{color}" stroke-width="2"/>'
        )
        out.append(f'<text x="{W - RIGHT + 35}" y="{ly + 4}">{lib}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--criterion", default="target/criterion")
    ap.add_argument("--out", default=".")
    ap.add_argument("groups", nargs="+")
    args = ap.parse_args()
    status = 0
    for group in args.groups:
        lines = load(pathlib.Path(args.criterion) / group)
        if not lines:
            print(f"{group}: no estimates under {args.criterion}/{group}", file=sys.stderr)
            status = 1
            continue
        target = pathlib.Path(args.out) / f"{group}.svg"
        target.write_text(plot(group, lines))
        print(f"wrote {target}")
    return status


if __name__ == "__main__":
    sys.exit(main())
