"""Memory over many sessions: RSS of `python app.py` while 5,000 requests arrive, each from a
fresh session (as every `/gradio_api/call/...` and every new visitor is), one in ten an error.

    python -m bench.sessions [--requests 5000] [--every 500] [--threads 4]

Target: RSS after all of them within 10% of RSS after the first 500 (Gradio keeps a copy of the
page's config per session, ~0.4 MB; the app bounds how many sessions it keeps, `app.SESSIONS`).
Prints the curve as a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from bench.common import app_process, machine, memory_mb
from bench.probes import call

REQUESTS = [("sample", ["vae_conv_z2.mnist", 2, 0, 1.0, "each"]),
            ("sample", ["vae_conv_z2.mnist", 99, 0, 1.0, "each"]),  # an error: grid_size out of range
            ("traverse", ["vae_conv_z2.mnist", "auto", "example", 3, None, None])]


def curve(url: str, pid, requests: int = 5000, every: int = 500, threads: int = 4) -> list[dict]:
    """[(requests so far, RSS MiB, failures so far)] every `every` requests."""
    import httpx

    points, failures, lock, done = [dict(requests=0, rss_mb=memory_mb(pid).get("rss"), failed=0)], [], threading.Lock(), [0]
    start = time.perf_counter()

    def worker(batch):
        with httpx.Client(timeout=120) as http:
            for i in batch:
                api, data = REQUESTS[0] if i % 10 else REQUESTS[1] if i % 20 else REQUESTS[2]
                if api == "sample" and data[1] == 2:
                    data = [data[0], 2, i % 1000, 1.0, "each"]
                kind, payload = call(http, url, api, data)
                expected = "error" if data[1] == 99 else "complete"
                with lock:
                    if kind != expected:
                        failures.append(f"{api}: {kind} {str(payload)[:100]}")
                    done[0] += 1

    for chunk_start in range(0, requests, every):
        chunk = list(range(chunk_start, min(requests, chunk_start + every)))
        workers = [threading.Thread(target=worker, args=(chunk[k::threads],)) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        points.append(dict(requests=done[0], rss_mb=memory_mb(pid).get("rss"), failed=len(failures),
                           elapsed_s=time.perf_counter() - start))
        print(points[-1], flush=True)
    return points


def markdown(points: list[dict]) -> str:
    base = next(p["rss_mb"] for p in points if p["requests"] >= 500)
    lines = ["| requests (each a fresh session) | app RSS (MiB) | vs. after 500 | failed |", "|---|---|---|---|"]
    for p in points:
        lines.append(f"| {p['requests']} | {p['rss_mb']:.0f} | {p['rss_mb'] / base - 1:+.1%} | {p['failed']} |")
    final = points[-1]["rss_mb"] / base - 1
    lines.append(f"\nRSS after {points[-1]['requests']} requests is {final:+.1%} of RSS after 500 (target: within ±10%) "
                 + ("✓" if abs(final) <= 0.10 else "✗"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--url", help="an app already running on 127.0.0.1 (give --pid to read its memory)")
    parser.add_argument("--pid")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    if args.url:
        points = curve(args.url.rstrip("/") + "/", args.pid, args.requests, args.every, args.threads)
    else:
        with app_process() as (url, pid):
            points = curve(url, pid, args.requests, args.every, args.threads)
    print(markdown(points))
    return 0


if __name__ == "__main__":
    sys.exit(main())
