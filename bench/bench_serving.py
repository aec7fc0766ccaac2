"""Serving benchmark: the Bento vs a minimal FastAPI + uvicorn server on the same model.

    .venv/bin/python bench/bench_serving.py                 # ~6 min on 2 cores
    .venv/bin/python bench/bench_serving.py --seconds 10    # quicker, noisier

What it does, in one run on this machine:
1. trains the product's model (accidents.learning.model.build_model("xgboost"), default parameters)
   on synthetic BAAC data and exports it with ops.bento_export (model store + Bento);
2. serves (a) the Bento with `bentoml serve` and (b) a plain FastAPI app (same pydantic
   input model, same DataFrame builder, ``predict_proba`` once per request, no batching,
   no log) under uvicorn with 1 worker and with 2 workers;
3. measures with wrk (Debian's /usr/bin/wrk, Lua script, loopback): single-row requests at
   concurrency 1, 8, 32 (requests/s, p50, p99, errors) and batches of 1,000 rows at
   concurrency 2 (rows/s), for the Bento both as rows (``/predict_batch``) and column-wise
   (``/predict_columns``); prints a table, the Bento/plain ratios and the targets, and
   writes outputs/bench/serving.json. ``--skip-plain`` measures the Bento only.

Load generator and servers share the machine's cores, as the issue's targets assume.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

MODEL_ENV = "BENCH_PLAIN_MODEL"


def create_plain_app() -> Any:
    """The baseline: FastAPI, same validation and frame builder, one model call per request."""
    import joblib
    from fastapi import Body, FastAPI

    from accidents.serving.schema import RoadUser, rows_to_frame

    model = joblib.load(os.environ[MODEL_ENV])
    app = FastAPI()

    def predict(road_users: Any) -> dict[str, list[float]]:
        proba = model.predict_proba(rows_to_frame(road_users))[:, 1]
        return {"probability": proba.tolist()}

    # Set at run time (this module uses string annotations) so FastAPI sees the real model.
    predict.__annotations__ = {"road_users": Annotated[list[RoadUser], Body(embed=True)],
                               "return": dict[str, list[float]]}
    app.post("/predict")(predict)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _start_plain(model_file: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, MODEL_ENV: str(model_file), "PYTHONPATH": str(REPO_ROOT)}
    cmd = [sys.executable, "-m", "uvicorn", "bench.bench_serving:create_plain_app", "--factory",
           "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
           "--log-level", "warning", "--no-access-log"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"plain server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("plain server not ready after 120 s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _measure(name: str, url: str, single_path: str, batch_path: str, singles: list[str],
             batches: list[str], work: Path, seconds: int, headers: dict[str, str],
             columnar: tuple[str, list[str]] | None = None) -> dict[str, Any]:
    import httpx

    from tests.fixtures.serving import run_wrk

    checks = [(single_path, singles[0]), (batch_path, batches[0])] + ([(columnar[0], columnar[1][0])]
                                                                      if columnar else [])
    for path, body in checks:
        check = httpx.post(url + path, content=body, timeout=120,
                           headers={"Content-Type": "application/json", **headers})
        if check.status_code != 200:  # never time a server that answers errors
            raise RuntimeError(f"{name} {path} answered {check.status_code}: {check.text[:500]}")
    out: dict[str, Any] = {"server": name, "single": {}, "batch": {}}
    run_wrk(url, single_path, singles, work, connections=8, seconds=3, headers=headers)  # warm-up
    for conc in (1, 8, 32):
        res = run_wrk(url, single_path, singles, work, connections=conc, seconds=seconds, headers=headers)
        out["single"][conc] = res
        print(f"  {name:<14} single c={conc:<3} {res['rps']:8.0f} req/s  p50 {res['p50_ms']:7.1f} ms  "
              f"p99 {res['p99_ms']:7.1f} ms  errors {res['errors']}", flush=True)
    res = run_wrk(url, batch_path, batches, work, connections=2, seconds=seconds, headers=headers,
                  timeout="30s")
    res["rows_per_s"] = res["rps"] * 1000
    out["batch"] = res
    print(f"  {name:<14} batch 1000 c=2 {res['rows_per_s']:8.0f} rows/s  p50 {res['p50_ms']:7.1f} ms  "
          f"p99 {res['p99_ms']:7.1f} ms  errors {res['errors']}  (rows, {batch_path})", flush=True)
    if columnar:
        res = run_wrk(url, columnar[0], columnar[1], work, connections=2, seconds=seconds, headers=headers,
                      timeout="30s")
        res["rows_per_s"] = res["rps"] * 1000
        out["batch_columns"] = res
        print(f"  {name:<14} batch 1000 c=2 {res['rows_per_s']:8.0f} rows/s  p50 {res['p50_ms']:7.1f} ms  "
              f"p99 {res['p99_ms']:7.1f} ms  errors {res['errors']}  (columns, {columnar[0]})", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20, help="duration of each wrk run (default 20)")
    parser.add_argument("--n-accidents", type=int, default=3000, help="synthetic accidents per year")
    parser.add_argument("--skip-plain", action="store_true", help="measure the Bento only")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "outputs" / "bench" / "serving.json")
    args = parser.parse_args(argv)

    import joblib

    from accidents.serving.schema import frame_to_columns, frame_to_records
    from tests.fixtures.serving import export_model, free_port, start_server

    work = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    print(f"work dir {work}", flush=True)
    from accidents.data.loader import load_years
    from accidents.learning.features import build_user_table
    from accidents.learning.model import build_model, fit_model
    from accidents.synthetic import write_synthetic

    write_synthetic(work / "baac", [2022, 2023], n_accidents=args.n_accidents, seed=11)
    users, _ = build_user_table(load_years(work / "baac", [2022, 2023]))
    model = fit_model(build_model("xgboost", {}), users, users["severe"])
    model_file = work / "model.joblib"
    joblib.dump(model, model_file)
    tags = export_model(model_file, work / "bentoml", "1", 0.5, {}, [2022, 2023])
    print(f"model trained on {len(users)} users; Bento {tags['bento_tag']}", flush=True)

    sample = users.sample(2000, random_state=0)
    records = frame_to_records(sample)
    singles = [json.dumps({"road_users": [r]}) for r in records[:500]]
    batches = [json.dumps({"road_users": records[i:i + 1000]}) for i in (0, 1000)]
    column_batches = [json.dumps({"columns": frame_to_columns(sample.iloc[i:i + 1000])}) for i in (0, 1000)]
    results: dict[str, Any] = {"seconds": args.seconds, "cpus": os.cpu_count(),
                               "loadavg_start": os.getloadavg(), "runs": []}

    server = start_server(tags["bento_tag"], work / "bentoml", work)
    try:
        results["runs"].append(_measure("bento", server.url, "/predict", "/predict_batch", singles,
                                        batches, work, args.seconds, {},
                                        columnar=("/predict_columns", column_batches)))
    finally:
        server.stop()
    for workers in () if args.skip_plain else (1, 2):
        port = free_port()
        proc = _start_plain(model_file, port, workers, work / f"plain-{workers}.log")
        try:
            results["runs"].append(_measure(f"plain-{workers}w", f"http://127.0.0.1:{port}", "/predict",
                                            "/predict", singles, batches, work, args.seconds, {}))
        finally:
            _stop(proc)
    results["loadavg_end"] = os.getloadavg()
    _report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(f"written {args.out}")
    return 0


def _report(results: dict[str, Any]) -> None:
    runs = {r["server"]: r for r in results["runs"]}
    bento = runs["bento"]
    print("\nsummary (requests/s; p50/p99 ms)")
    print(f"{'':<14}{'c=1':>22}{'c=8':>22}{'c=32':>22}{'batch rows/s':>16}{'columns rows/s':>16}")
    for name, r in runs.items():
        cells = "".join(f"{s['rps']:>8.0f} {s['p50_ms']:>5.1f}/{s['p99_ms']:<6.1f}"
                        for s in (r["single"][c] for c in (1, 8, 32)))
        cols = f"{r['batch_columns']['rows_per_s']:>16.0f}" if "batch_columns" in r else f"{'-':>16}"
        print(f"{name:<14}{cells}{r['batch']['rows_per_s']:>16.0f}{cols}")
    for name in ("plain-1w", "plain-2w") if "plain-1w" in runs else ():
        ratio = bento["single"][32]["rps"] / max(runs[name]["single"][32]["rps"], 1e-9)
        bratio = bento["batch"]["rows_per_s"] / max(runs[name]["batch"]["rows_per_s"], 1e-9)
        print(f"ratio bento/{name}: single c=32 x{ratio:.1f}, batch x{bratio:.1f}")
    s32 = bento["single"][32]
    checks: dict[str, bool] = {}
    if "plain-1w" in runs:
        ratio1 = s32["rps"] / max(runs["plain-1w"]["single"][32]["rps"], 1e-9)
        checks[">= 3x plain (1 worker) at c=32"] = ratio1 >= 3
    checks.update({
        ">= 1000 req/s at c=32": s32["rps"] >= 1000,
        "p99 <= 100 ms at c=32": s32["p99_ms"] <= 100,
        "no errors": all(r["single"][c]["errors"] == 0 for r in runs.values() for c in (1, 8, 32))
        and all(r[k]["errors"] == 0 for r in runs.values() for k in ("batch", "batch_columns") if k in r),
        ">= 100k rows/s on batches of 1000 (columnar)": bento["batch_columns"]["rows_per_s"] >= 100_000,
    })
    results["targets"] = checks
    for text, ok in checks.items():
        print(f"  target {text}: {'met' if ok else 'MISSED'}")
    print(f"load average start {results['loadavg_start']}, end {results['loadavg_end']} "
          "(other processes on the machine share the cores)")


if __name__ == "__main__":
    sys.exit(main())
