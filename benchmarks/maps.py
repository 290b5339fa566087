"""Static maps of 100,000 accounts: wall time of each stage.

Target (issue 9): a static map of 100,000 accounts in under 20 s.
Accounts are synthetic, placed near real ZIP points of all 50 states + DC
(plan_lib.maps.example), with 3 segments x 33 reps, 5% placed by postal code.
Usage:
  .venv/bin/python benchmarks/maps.py                      # 100,000 accounts
  .venv/bin/python benchmarks/maps.py --accounts 20000 --out /tmp/maps
"Cold" includes loading and simplifying the packaged boundaries and ZIP points
(what a pipeline step pays once per process); "warm" redraws the same map.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--reps-per-segment", type=int, default=33)
    parser.add_argument("--out", help="folder for the PNGs (default: a temporary folder)")
    parser.add_argument(
        "--all", action="store_true", help="also time every map of the balance step"
    )
    args = parser.parse_args()

    from plan_lib import geo
    from plan_lib.maps import boundaries, static
    from plan_lib.maps.api import render_maps
    from plan_lib.maps.example import example_inputs
    from plan_lib.maps.layers import build_layers

    data = example_inputs(
        n_accounts=args.accounts,
        states=geo.STATES,
        reps_per_segment=args.reps_per_segment,
        segments=("Enterprise", "Mid-Market", "SMB"),
        seed=7,
        unlocatable=25,
    )
    out = Path(args.out or tempfile.mkdtemp(prefix="tqp-maps-"))
    # Forget the shapes and ZIP points loaded while generating: "cold" pays for loading them.
    for cached in (geo.load_states, geo.load_counties, geo.load_zip_points):
        cached.cache_clear()
    boundaries.clear_caches()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    layers = build_layers(data["accounts"], data["reps"], data["assignments"], data["books"])
    timings["layers (locate, outlines, zones, moves)"] = time.perf_counter() - started
    mark = time.perf_counter()
    figure = static.books_map(
        layers, title=f"Books of business: all segments, {args.accounts:,} accounts"
    )
    timings["draw books map"] = time.perf_counter() - mark
    mark = time.perf_counter()
    path = static.save_png(figure, out / "books-all.png")
    timings["save PNG"] = time.perf_counter() - mark
    cold = time.perf_counter() - started
    mark = time.perf_counter()
    static.save_png(static.books_map(layers), out / "books-all-warm.png")
    warm = time.perf_counter() - mark

    print(
        f"{len(layers.points):,} accounts on the map ({(layers.points['located_by'] == 'postal_code').sum():,} by ZIP), "
        f"{len(layers.unlocated):,} not placed, {len(layers.outlines)} outlines, {len(layers.zones):,} counties"
    )
    for name, seconds in timings.items():
        print(f"  {name:<42} {seconds:6.1f} s")
    print(
        f"static map of {args.accounts:,} accounts, cold (incl. building layers): {cold:.1f} s (target < 20 s); "
        f"warm redraw: {warm:.1f} s; PNG {path.stat().st_size / 1024:.0f} KB at {path}"
    )
    if args.all:
        mark = time.perf_counter()
        figures = render_maps(layers, "balance")
        for name, fig in figures.items():
            static.save_png(fig, out / f"{name}.png")
        print(
            f"all {len(figures)} balance maps drawn and saved: {time.perf_counter() - mark:.1f} s"
        )


if __name__ == "__main__":
    main()
