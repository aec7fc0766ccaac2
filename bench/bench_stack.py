"""Figures for the `minio` profile's local services (prints them; no assertion).

    .venv/bin/python bench/bench_stack.py [--objects 40] [--size-kib 512] [--no-mlflow]

Starts SeaweedFS (`weed server -s3`) and, unless --no-mlflow, `mlflow server` on free
loopback ports in a temp folder, and prints: start-up times, S3 PUT/GET throughput and
latency through boto3 (what ZenML's s3fs and MLflow use underneath), stop times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ops import services as svc  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=40)
    parser.add_argument("--size-kib", type=int, default=512)
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    creds = svc.S3Credentials("bench", "bench-secret-" + os.urandom(4).hex())
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp:
        state = Path(tmp)
        s3_port, mlflow_port = svc.free_ports(2)
        t0 = time.perf_counter()
        s3 = svc.start_s3_server(state, state / "data", s3_port, creds)
        s3_start = time.perf_counter() - t0
        try:
            svc.ensure_bucket(s3.url, "bench", creds)
            client = svc.s3_client(s3.url, creds)
            body = os.urandom(args.size_kib * 1024)
            put, get = [], []
            for i in range(args.objects):
                t = time.perf_counter()
                client.put_object(Bucket="bench", Key=f"o/{i}", Body=body)
                put.append(time.perf_counter() - t)
            for i in range(args.objects):
                t = time.perf_counter()
                data = client.get_object(Bucket="bench", Key=f"o/{i}")["Body"].read()
                get.append(time.perf_counter() - t)
                assert data == body
            mib = args.objects * args.size_kib / 1024
            print(f"S3 server (SeaweedFS {s3.command[0]}) start: {s3_start:.1f} s")
            print(f"PUT {args.objects} x {args.size_kib} KiB: {mib / sum(put):.1f} MiB/s, "
                  f"median {statistics.median(put) * 1000:.1f} ms")
            print(f"GET {args.objects} x {args.size_kib} KiB: {mib / sum(get):.1f} MiB/s, "
                  f"median {statistics.median(get) * 1000:.1f} ms")
            if not args.no_mlflow:
                t0 = time.perf_counter()
                svc.start_mlflow_server(state, mlflow_port, f"sqlite:///{state / 'mlflow.db'}",
                                        "s3://bench/mlflow", s3.url, creds)
                print(f"MLflow server start (new SQLite DB): {time.perf_counter() - t0:.1f} s")
                t0 = time.perf_counter()
                svc.stop_service(state, svc.MLFLOW_SERVICE, timeout=8)
                print(f"MLflow server stop: {time.perf_counter() - t0:.1f} s")
        finally:
            t0 = time.perf_counter()
            svc.stop_service(state, svc.S3_SERVICE, timeout=8)
            print(f"S3 server stop: {time.perf_counter() - t0:.1f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
