"""Load: concurrent gradio_client users, each making mixed requests across every endpoint.

    python -m bench.load [--users 16] [--requests 25] [--url http://127.0.0.1:7860/]

Without `--url`, starts `python app.py` in a subprocess and measures its memory too. Reports
errors (target: none), p50/p99 round trip, throughput, and the app's resident memory before and
after the run (after a warm-up of the same mix; target: after within 10% of before, i.e. no
growth per request). tests/test_load.py runs a bounded version of the same code.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench.common import app_process, machine, memory_mb, percentile

ENDPOINTS = ["reconstruct", "sample", "interpolate", "swap_labels", "latent_map", "traverse"]


def ring_png(folder: Path) -> str:
    """A dark ring on white, as a phone photo of a drawn zero: the upload some requests carry."""
    ys, xs = np.indices((96, 96))
    r = np.hypot(ys - 48, xs - 48)
    path = Path(folder) / "ring.png"
    Image.fromarray(np.where((r > 20) & (r < 30), 10, 245).astype(np.uint8)).save(path)
    return str(path)


def mixed_requests(count: int, seed: int, upload: str | None = None) -> list[tuple[str, dict]]:
    """`count` requests, every endpoint in turn (shuffled), with models, examples, seeds and sizes
    drawn at random: [(api_name, kwargs)]."""
    import zoo
    from gradio_client import handle_file

    from zoo.demo.examples import load_examples

    rng = random.Random(seed)
    models = [n for n in zoo.list_models() if not getattr(zoo.get_spec(n), "study", False)]  # what the pickers offer
    specs = {n: zoo.get_spec(n) for n in models}
    conditional = [n for n in models if specs[n].conditional]
    datasets = sorted({s.dataset for s in specs.values()})
    shipped = {d: len(load_examples(d).labels) for d in datasets}  # 800 per digit/clothing dataset, 124 glyphs
    index = lambda dataset: rng.randrange(0, min(400, shipped[dataset]))  # noqa: E731
    order = []
    while len(order) < count:  # every endpoint as often as the others, in a random order
        order += rng.sample(ENDPOINTS, len(ENDPOINTS))
    out = []
    for endpoint in order[:count]:
        model = rng.choice(models)
        if endpoint == "reconstruct":
            dataset = rng.choice(datasets)
            kwargs = dict(dataset=dataset, example_index=index(dataset))
            if upload and rng.random() < 0.3:
                kwargs.update(source="upload", upload=handle_file(upload))
        elif endpoint == "sample":
            kwargs = dict(model=model, grid_size=rng.choice([4, 8, 16]), seed=rng.randrange(10**6),
                          temperature=rng.choice([0.5, 1.0, 1.5]))
        elif endpoint == "interpolate":
            kwargs = dict(model=model, path=rng.choice(["linear", "spherical"]), steps=rng.choice([8, 16, 32]),
                          a_index=index(specs[model].dataset), b_index=index(specs[model].dataset), t=rng.random())
        elif endpoint == "swap_labels":
            model = rng.choice(conditional or models)
            kwargs = dict(model=model, a_index=index(specs[model].dataset), b_index=index(specs[model].dataset))
        elif endpoint == "latent_map":
            dataset = rng.choice(datasets)
            pair = [n for n in models if specs[n].dataset == dataset]
            kwargs = dict(dataset=dataset, left=rng.choice(pair), right=rng.choice(pair), ellipses=rng.random() < 0.3)
        else:
            kwargs = dict(model=model, example_index=index(specs[model].dataset))
        out.append((f"/{endpoint}", kwargs))
    return out


def run_users(url: str, users: int, requests_per_user: int, seed: int = 0, upload: str | None = None) -> dict:
    """`users` threads, each with its own gradio_client session, making its requests one after
    another; all start together. Returns latencies (ms), errors, wall time, throughput."""
    from gradio_client import Client

    clients = [Client(url, verbose=False, download_files=False) for _ in range(users)]
    plans = [mixed_requests(requests_per_user, seed * 1000 + u, upload) for u in range(users)]
    latencies: list[float] = []
    errors: list[tuple[str, dict, str]] = []
    lock = threading.Lock()
    start_line = threading.Barrier(users + 1)

    def user(client, plan):
        start_line.wait()
        for api_name, kwargs in plan:
            start = time.perf_counter()
            try:
                client.predict(api_name=api_name, **kwargs)
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)
            except Exception as exc:  # every error counts against the target of none
                with lock:
                    errors.append((api_name, kwargs, f"{type(exc).__name__}: {exc}"))

    threads = [threading.Thread(target=user, args=(c, p), daemon=True) for c, p in zip(clients, plans)]
    for t in threads:
        t.start()
    start_line.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    closing = [threading.Thread(target=c.close, daemon=True) for c in clients]  # a second each: all at once
    for t in closing:
        t.start()
    for t in closing:
        t.join()
    return dict(users=users, requests=users * requests_per_user, errors=errors, wall_s=wall,
                throughput=(len(latencies) + len(errors)) / wall, p50_ms=percentile(latencies, 50),
                p90_ms=percentile(latencies, 90), p99_ms=percentile(latencies, 99), latencies=latencies)


def tour(url: str) -> None:
    """Every served model once through each endpoint that caches per model (its weights, its examples' codes,
    its latent map), so what a load run measures afterwards is growth, not first loads."""
    import zoo
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    models = [n for n in zoo.list_models() if not getattr(zoo.get_spec(n), "study", False)]
    for name in models:
        dataset = zoo.get_spec(name).dataset
        client.predict(api_name="/sample", model=name, grid_size=4, seed=0, temperature=1.0)
        client.predict(api_name="/traverse", model=name, example_index=0)
        client.predict(api_name="/latent_map", dataset=dataset, left=name, right=name, ellipses=True)
    for dataset in sorted({zoo.get_spec(n).dataset for n in models}):
        client.predict(api_name="/reconstruct", dataset=dataset, example_index=0)


def load_test(url: str, pid: int | str, users: int = 16, requests_per_user: int = 25, warmup_per_user: int = 4,
              folder: Path | None = None) -> dict:
    """Warm up with the same mix, then the timed run; the app's memory (process `pid`) before
    and after the timed run."""
    with tempfile.TemporaryDirectory() as tmp:
        upload = ring_png(Path(folder or tmp))
        tour(url)  # every model loaded, its caches filled
        run_users(url, users, warmup_per_user, seed=99, upload=upload)  # the mix's own first calls
        before = memory_mb(pid)
        result = run_users(url, users, requests_per_user, seed=1, upload=upload)
        after = memory_mb(pid)
    result.update(rss_before_mb=before.get("rss"), rss_after_mb=after.get("rss"), peak_mb=after.get("peak"))
    if before.get("rss"):
        result["growth"] = after["rss"] / before["rss"] - 1
    return result


def markdown(results: list[dict]) -> str:
    lines = ["| users × requests | errors | throughput (req/s) | p50 | p90 | p99 | app RSS before → after |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        memory = (f"{r['rss_before_mb']:.0f} → {r['rss_after_mb']:.0f} MiB ({r['growth']:+.1%})" if r.get("rss_before_mb")
                  else "–")
        lines.append(f"| {r['users']} × {r['requests'] // r['users']} | {len(r['errors'])} | {r['throughput']:.1f} | "
                     f"{r['p50_ms']:.0f} ms | {r['p90_ms']:.0f} ms | {r['p99_ms']:.0f} ms | {memory} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--requests", type=int, default=25, help="requests per user")
    parser.add_argument("--url", help="an app already running (memory is then not measured)")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    if args.url:
        result = load_test(args.url, "none", args.users, args.requests)
    else:
        with app_process() as (url, pid):
            result = load_test(url, pid, args.users, args.requests)
    print(markdown([result]))
    for api_name, kwargs, message in result["errors"][:10]:
        print(f"error: {api_name} {kwargs}: {message}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
