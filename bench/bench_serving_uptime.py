"""Does the Bento's tail latency hold over uptime? Consecutive wrk runs on one server.

    .venv/bin/python bench/bench_serving_uptime.py                 # ~2 min on 2 cores
    .venv/bin/python bench/bench_serving_uptime.py --runs 8 --seconds 15

Why: the full benchmark (bench_serving.py) measures each case once, after the cases before
it; a server whose latency degrades with the requests it has answered shows it only as
noise there. This starts one Bento (same model and data as bench_serving.py), sends single
rows at c=32 (one c=8 run in the middle) for ``--runs`` consecutive runs, and prints each
run's req/s, p50, p99, the workers' resident memory and the load average. A steady server
shows flat p99 and memory; BentoML 1.4's own timeout middleware (replaced by the service,
docs/serving.md "Where the time goes") made p99 grow run after run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="consecutive wrk runs (default 5)")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each run (default 10)")
    args = parser.parse_args(argv)

    import joblib
    import psutil

    from accidents.data.loader import load_years
    from accidents.learning.features import build_user_table
    from accidents.learning.model import build_model, fit_model
    from accidents.serving.schema import frame_to_records
    from accidents.synthetic import write_synthetic
    from tests.fixtures.serving import export_model, run_wrk, start_server

    print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; data: SYNTHETIC", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-uptime-"))
    write_synthetic(work / "baac", [2022, 2023], n_accidents=3000, seed=11)
    users, _ = build_user_table(load_years(work / "baac", [2022, 2023]))
    model = fit_model(build_model("xgboost", {}), users, users["severe"])
    joblib.dump(model, work / "model.joblib")
    tags = export_model(work / "model.joblib", work / "bentoml", "1", 0.5, {}, [2022, 2023])
    singles = [json.dumps({"road_users": [r]}) for r in frame_to_records(users.sample(500, random_state=0))]
    server = start_server(tags["bento_tag"], work / "bentoml", work)
    try:
        run_wrk(server.url, "/predict", singles, work, connections=8, seconds=2)  # warm-up
        plan = [32] * args.runs
        plan[len(plan) // 2] = 8
        for i, connections in enumerate(plan, start=1):
            res = run_wrk(server.url, "/predict", singles, work, connections=connections, seconds=args.seconds)
            workers = [p for p in psutil.Process(server.proc.pid).children(recursive=True)
                       if any("worker" in part for part in p.cmdline())]
            rss = "/".join(f"{p.memory_info().rss / 2**20:.0f}" for p in workers)
            print(f"  run {i} c={connections:<3} {res['rps']:7.0f} req/s  p50 {res['p50_ms']:6.1f} ms  "
                  f"p99 {res['p99_ms']:6.1f} ms  errors {res['errors']}  worker RSS {rss} MB  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)  # the prediction log alone grows ~1 GB a run
    return 0


if __name__ == "__main__":
    sys.exit(main())
