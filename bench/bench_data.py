"""Benchmark of the data layer: load + feature-building time and peak memory.

    .venv/bin/python bench/bench_data.py                    # synthetic: 1 year and 5 years
    .venv/bin/python bench/bench_data.py --accidents 55000  # accidents per synthetic year
    .venv/bin/python bench/bench_data.py --dir ~/baac --years 2019 2020 2021 2022 2023

Synthetic files (``accidents.synthetic.write_synthetic``, the published on-disk format)
are written to a temporary folder first; writing them is not timed. With ``--dir`` the
real files of that folder are read instead (1 year = the first of ``--years``, then all).

Each case runs in a fresh Python process so that its peak memory (max RSS) is its own;
the figure printed is the peak RSS of that process and its growth over the RSS measured
after the imports. Wall time and CPU time are both printed: on a shared machine the CPU
time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from accidents.learning.features import build_user_table
from accidents.data.loader import load_years

def rss_mb():
    # VmHWM (peak resident set of this process image); ru_maxrss would include the
    # parent's peak, which Linux carries across fork + exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

base = rss_mb()
w0, c0 = time.perf_counter(), time.process_time()
tables = load_years(Path({folder!r}), {years!r})
w1, c1 = time.perf_counter(), time.process_time()
users, report = build_user_table(tables)
w2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({{
    "accidents": len(tables.caracteristiques), "users": len(tables.usagers),
    "feature_rows": len(users), "load_s": w1 - w0, "load_cpu_s": c1 - c0,
    "features_s": w2 - w1, "features_cpu_s": c2 - c1,
    "peak_rss_mb": rss_mb(), "rss_growth_mb": rss_mb() - base,
}}))
"""


def measure(folder: Path, years: list[int]) -> dict[str, float]:
    """Run one load + features case in a fresh interpreter and return its figures."""
    code = _CHILD.format(repo=str(REPO), folder=str(folder), years=years)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _print(label: str, r: dict[str, float]) -> None:
    total = r["load_s"] + r["features_s"]
    print(
        f"{label:<28} {r['accidents']:>9,} acc {r['users']:>9,} users | "
        f"load {r['load_s']:6.2f} s (cpu {r['load_cpu_s']:6.2f}) | "
        f"features {r['features_s']:6.2f} s (cpu {r['features_cpu_s']:6.2f}) | "
        f"total {total:6.2f} s | peak RSS {r['peak_rss_mb']:7.0f} MB "
        f"(+{r['rss_growth_mb']:.0f} MB)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="folder of real BAAC files (default: synthetic)")
    parser.add_argument("--years", type=int, nargs="+", default=[2019, 2020, 2021, 2022, 2023])
    parser.add_argument("--accidents", type=int, default=55_000,
                        help="accidents per synthetic year (default 55,000, about a real year)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path,
                        help="write the synthetic files here and reuse them on the next run")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_data_") as tmp:
        if args.dir is None:
            from accidents.synthetic import write_synthetic

            folder = args.keep or Path(tmp)
            stamp = folder / f".bench-{args.accidents}-{args.seed}-{'-'.join(map(str, args.years))}"
            t0 = time.perf_counter()
            if not stamp.exists():
                folder.mkdir(parents=True, exist_ok=True)
                for old in folder.glob("*.csv"):
                    old.unlink()
                write_synthetic(folder, args.years, args.accidents, seed=args.seed)
                stamp.touch()
            size = sum(p.stat().st_size for p in folder.glob("*.csv")) / 1e6
            print(f"data: SYNTHETIC, {len(args.years)} years x {args.accidents:,} accidents "
                  f"({size:.0f} MB of CSV, written in {time.perf_counter() - t0:.1f} s, not timed)")
        else:
            folder = args.dir
            print(f"data: REAL files in {folder}")
        _print(f"1 year ({args.years[0]})", measure(folder, args.years[:1]))
        if len(args.years) > 1:
            _print(f"{len(args.years)} years ({args.years[0]}-{args.years[-1]})",
                   measure(folder, args.years))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
