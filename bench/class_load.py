"""A class opens one link: 30 students open the same shared link at once (the page and what it
asks for: its config, the opened tab's run, the pictures), then each sends 20 identical requests
(everyone presses the same button) and 20 mixed ones (bench/load.py's mix), on 127.0.0.1.

    python -m bench.class_load [--students 30] [--identical 20] [--mixed 20] [--url http://127.0.0.1:7860/]

Target: 0 failed requests; p50/p99 per phase. tests/test_robustness.py runs a bounded version
of the identical requests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import app_process, machine, memory_mb, percentile
from bench.load import mixed_requests, ring_png
from bench.probes import call

LINK = "?tab=sample&model=vae_conv_z16.fashion_mnist&n=8&seed=0&temp=1&label=each"
LINK_RUN = ("sample", ["vae_conv_z16.fashion_mnist", 8, 0, 1.0, "each"])  # what the page runs for LINK


def download(http, payload) -> None:
    for item in payload if isinstance(payload, list) else [payload]:
        if isinstance(item, dict) and item.get("url"):
            response = http.get(item["url"])
            response.raise_for_status()
        elif isinstance(item, list):
            download(http, item)


def run_class(url: str, students: int = 30, identical: int = 20, mixed: int = 20, upload: str | None = None) -> dict:
    import httpx
    from gradio_client import Client

    phases = {"open the link": [], "identical": [], "mixed": []}
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(students)

    def timed(phase, action):
        start = time.perf_counter()
        try:
            action()
            with lock:
                phases[phase].append((time.perf_counter() - start) * 1000)
        except Exception as exc:  # every failure counts against the target of none
            with lock:
                failures.append(f"{phase}: {type(exc).__name__}: {str(exc)[:160]}")

    def run(http, api, data):
        kind, payload = call(http, url, api, data)
        if kind != "complete":
            raise RuntimeError(f"{api}: {kind}: {str(payload)[:120]}")
        download(http, payload)

    def open_link(http):
        for path in (LINK, "config", "gradio_api/info"):
            http.get(url + path).raise_for_status()
        run(http, *LINK_RUN)

    def student(index):
        with httpx.Client(timeout=300) as http:
            barrier.wait()
            timed("open the link", lambda: open_link(http))
            for _ in range(identical):
                timed("identical", lambda: run(http, *LINK_RUN))
            client = Client(url, verbose=False, download_files=False)
            try:
                for api_name, kwargs in mixed_requests(mixed, seed=index, upload=upload):
                    timed("mixed", lambda: client.predict(api_name=api_name, **kwargs))
            finally:
                client.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=student, args=(i,)) for i in range(students)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    total = students * (1 + identical + mixed)
    return dict(students=students, requests=total, failed=len(failures), failures=failures, wall_s=wall,
                phases={k: dict(n=len(v), p50_ms=percentile(v, 50), p99_ms=percentile(v, 99)) for k, v in phases.items()})


def markdown(result: dict, rss: tuple | None = None) -> str:
    lines = [f"{result['students']} students, {result['requests']} requests in {result['wall_s']:.0f} s: "
             f"**{result['failed']} failed** (target 0) " + ("✓" if result["failed"] == 0 else "✗"), "",
             "| phase | requests answered | p50 | p99 |", "|---|---|---|---|"]
    for phase, r in result["phases"].items():
        lines.append(f"| {phase} | {r['n']} | {r['p50_ms']:.0f} ms | {r['p99_ms']:.0f} ms |")
    if rss:
        lines.append(f"\napp RSS {rss[0]:.0f} → {rss[1]:.0f} MiB over the run")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--identical", type=int, default=20)
    parser.add_argument("--mixed", type=int, default=20)
    parser.add_argument("--url", help="an app already running on 127.0.0.1")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        upload = ring_png(Path(tmp))
        if args.url:
            result, rss = run_class(args.url.rstrip("/") + "/", args.students, args.identical, args.mixed, upload), None
        else:
            with app_process() as (url, pid):
                before = memory_mb(pid).get("rss")
                result = run_class(url, args.students, args.identical, args.mixed, upload)
                rss = (before, memory_mb(pid).get("rss"))
    print(markdown(result, rss))
    for failure in result["failures"][:10]:
        print("failed:", failure)
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
