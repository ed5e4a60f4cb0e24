"""Reliability probes: what a class of students, a careless API user and an attacker try against
`python app.py` (issue 14), each with what the app answered.

    python -m bench.probes [--url http://127.0.0.1:7860/]

Without `--url`, starts `python app.py` in a subprocess on 127.0.0.1. Every probe talks plain
HTTP to Gradio's own routes (`/gradio_api/call/<endpoint>`, `/gradio_api/upload`, the page), as
anyone could; the result is a line for BENCHMARKS.md's reliability section. Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import threading
import time
from urllib.parse import quote

import numpy as np
from PIL import Image

from bench.common import app_process, machine, memory_mb, percentile

PATHS = ("/etc", "/root", "/home", "/work", "/tmp", "/usr", "/nonexistent", "site-packages")


def call(http, url: str, api: str, data: list, timeout: float = 120) -> tuple[str, object]:
    """POST /gradio_api/call/<api> then read its event stream: ("complete", data) or ("error", message)
    or ("http <status>", body)."""
    response = http.post(f"{url}gradio_api/call/{api}", json={"data": data}, timeout=timeout)
    if response.status_code != 200:
        return f"http {response.status_code}", response.text[:200]
    event_id = response.json()["event_id"]
    kind, payload = "none", None
    with http.stream("GET", f"{url}gradio_api/call/{api}/{event_id}", timeout=timeout) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in ("complete", "error"):
                text = line.split(":", 1)[1].strip()
                try:
                    payload = json.loads(text)
                except ValueError:
                    payload = text
                return kind, payload
    return kind, payload


_INFO: dict[str, dict] = {}


def call_named(http, url: str, api: str, **kwargs) -> tuple[str, object]:
    """`call` with arguments by name, the others at the endpoint's defaults (from /gradio_api/info),
    so a new parameter of a tab does not break the caller."""
    if url not in _INFO:
        _INFO[url] = http.get(f"{url}gradio_api/info").json()["named_endpoints"]
    data = []
    for parameter in _INFO[url][f"/{api}"]["parameters"]:
        name = parameter["parameter_name"]
        data.append(kwargs.pop(name) if name in kwargs else parameter.get("parameter_default"))
    if kwargs:
        raise TypeError(f"/{api} has no parameter {', '.join(kwargs)}")
    return call(http, url, api, data)


def names_a_path(text) -> bool:
    return any(p in str(text) for p in PATHS)


def fetch_outputs(http, url: str, payload) -> None:
    """Download every file an answer names, as a browser would; raises on a failed download."""
    for item in payload if isinstance(payload, list) else [payload]:
        if isinstance(item, dict) and item.get("url"):
            response = http.get(item["url"] if item["url"].startswith("http") else url + item["url"].lstrip("/"))
            response.raise_for_status()
            response.read()
        elif isinstance(item, list):
            fetch_outputs(http, url, item)


def identical_requests(url: str, clients: int = 16, each: int = 10) -> dict:
    """`clients` sessions, each calling /sample with the defaults `each` times and downloading the
    grid: what a class gets when everyone opens the same link (item 1)."""
    import httpx

    failures, latencies, lock = [], [], threading.Lock()
    barrier = threading.Barrier(clients)

    def one():
        with httpx.Client() as http:
            barrier.wait()
            for _ in range(each):
                start = time.perf_counter()
                try:
                    kind, payload = call_named(http, url, "sample", model="vae_conv_z16.fashion_mnist")
                    if kind != "complete":
                        raise RuntimeError(f"{kind}: {payload}")
                    fetch_outputs(http, url, payload)
                    with lock:
                        latencies.append((time.perf_counter() - start) * 1000)
                except Exception as exc:
                    with lock:
                        failures.append(f"{type(exc).__name__}: {str(exc)[:120]}")

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return dict(requests=clients * each, failed=len(failures), first=failures[:2], p50_ms=percentile(latencies, 50),
                p99_ms=percentile(latencies, 99))


def get_status(url: str, path: str) -> int:
    """GET `path` on the app with http.client (httpx refuses URLs over 64 KB); its status code."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("GET", "/" + path.lstrip("/"))
        return connection.getresponse().status
    finally:
        connection.close()


def flood(url: str, flood_requests: int = 200, normal_requests: int = 5) -> dict:
    """`flood_requests` heavy calls at once (each its own session, all from one address), and meanwhile
    another address's normal calls, one after another: how many flood calls were refused, and the
    normal calls' round trips."""
    import httpx

    outcomes, normal, lock = [], [], threading.Lock()

    def heavy():
        with httpx.Client(timeout=300) as http:
            try:
                kind, payload = call_named(http, url, "sample", model="cvae_conv_z16.fashion_mnist", grid_size=16, seed=1)
                refused = kind == "http 503" or "queue is full" in str(payload).lower()  # the per-client limit, or the line's
                outcome = "answered" if kind == "complete" else "queue full" if refused else kind
            except Exception as exc:
                outcome = type(exc).__name__
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=heavy) for _ in range(flood_requests)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    # The user is another client (address) than the flood's: 127.0.0.2, still this machine.
    with httpx.Client(timeout=300, transport=httpx.HTTPTransport(local_address="127.0.0.2")) as http:
        for i in range(normal_requests):
            start = time.perf_counter()
            kind, _ = call_named(http, url, "sample", model="vae_conv_z2.mnist", grid_size=2, seed=i)
            normal.append(((time.perf_counter() - start) * 1000, kind))
    for t in threads:
        t.join()
    return dict(refused=outcomes.count("queue full"), answered=outcomes.count("answered"), flood=flood_requests,
                normal=normal)


def png_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def run_probes(url: str, pid=None) -> list[tuple[str, str, str]]:
    """[(item, probe, result)] for every probe of issue 14."""
    import httpx

    rows = []
    http = httpx.Client(timeout=120)
    rec = lambda file: dict(dataset="fashion_mnist", models=["vae_conv_z16.fashion_mnist"], source="upload", upload=file)  # noqa: E731

    r = identical_requests(url)
    rows.append(("1", "16 clients × 10 identical `/sample` calls (defaults), each grid downloaded",
                 f"{r['failed']} of {r['requests']} failed; p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms"
                 + (f" ({r['first'][0]})" if r["first"] else "")))

    f = flood(url)
    ms = [m for m, _ in f["normal"]]
    rows.append(("flood", f"{f['flood']} heavy `/sample` calls at once (grid 16, CVAE), another address's 5 small calls meanwhile",
                 f"{f['refused']} refused (one address's limit, 503), {f['answered']} answered; the user's calls: "
                 f"{sum(k == 'complete' for _, k in f['normal'])} of 5 answered, {min(ms):.0f}–{max(ms):.0f} ms"))

    start = time.perf_counter()
    kind, payload = call_named(http, url, "reconstruct", dataset="fashion_mnist", models=["vae_conv_z16.fashion_mnist"] * 2000)
    rows.append(("4", "`/reconstruct` with one model name repeated 2,000 times",
                 f"{kind} in {time.perf_counter() - start:.2f} s: {str(payload)[:100]}"))
    kind, payload = call_named(http, url, "reconstruct", dataset="mnist", models=["cvae_conv_z8.mnist"], label="x" * 1_000_000)
    rows.append(("4", "`/reconstruct` with a 1 MB `label`", f"{kind}; the answer echoes {len(str(payload))} characters"))
    kind, payload = call_named(http, url, "reconstruct", dataset=["mnist"] * 1000)
    rows.append(("4", "`/reconstruct` with a list of 1,000 datasets", f"{kind}; the answer echoes {len(str(payload))} characters"))

    for target in ("/etc/passwd", "/etc/hostname", "/nonexistent/file.png", "/etc"):
        kind, payload = call_named(http, url, "reconstruct", **rec({"path": target}))
        rows.append(("8", f"`/reconstruct` with `{{\"path\": \"{target}\"}}` (no meta)",
                     f"{kind}: {str(payload)[:110]!s}" + ("  ← names a server path" if names_a_path(payload) else "")))
    kind, payload = call_named(http, url, "reconstruct", **rec({"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}))
    rows.append(("8", "the same with `meta: gradio.FileData`", f"{kind}: {str(payload)[:110]}"))

    big = png_bytes(np.random.default_rng(0).integers(0, 256, (2600, 2600), dtype=np.uint8))
    data_url = "data:image/png;base64," + base64.b64encode(big).decode()
    try:
        kind, payload = call_named(http, url, "reconstruct", **rec({"url": data_url, "path": None, "meta": {"_type": "gradio.FileData"}}))
    except httpx.HTTPError as exc:
        kind, payload = type(exc).__name__, str(exc)
    rows.append(("9", f"a {len(big) / 1e6:.1f} MB PNG as a `data:` URL in the JSON body", f"{kind}: {str(payload)[:110]}"))
    before = memory_mb(pid).get("rss") if pid else None
    try:
        response = http.post(f"{url}gradio_api/call/sample", content=b'{"data": ["' + b"x" * 50_000_000 + b'"]}',
                             headers={"content-type": "application/json"})
        answer = f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        answer = f"{type(exc).__name__}"
    after = memory_mb(pid).get("rss") if pid else None
    rows.append(("9", "a 50 MB JSON body to `/gradio_api/call/sample`",
                 answer + (f"; app RSS {before:.0f} → {after:.0f} MiB" if before and after else "")))
    response = http.post(f"{url}gradio_api/upload", files={"files": ("big.png", b"\0" * 6_000_000, "image/png")})
    rows.append(("9", "a 6 MB file to `/gradio_api/upload`", f"HTTP {response.status_code}"))

    for query, what in ((f"?tab=reconstruct&dataset=nope&label=x", "unknown dataset with a label"),
                        ("?tab=sample&seed=" + "9" * 70_000, "a 70 KB URL")):
        rows.append(("11", f"GET `/{query[:40]}{'…' if len(query) > 40 else ''}` ({what})", f"HTTP {get_status(url, query)}"))
    http.close()
    return rows


def markdown(rows) -> str:
    lines = ["| item | probe | result |", "|---|---|---|"]
    for item, probe, result in rows:
        lines.append(f"| {item} | {probe} | {result.replace('|', '/').replace(chr(10), ' ')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an app already running on 127.0.0.1 (memory is then not measured)")
    parser.add_argument("--pid", help="with --url: the app's process id, to read its memory")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    if args.url:
        print(markdown(run_probes(args.url.rstrip("/") + "/", args.pid)))
    else:
        with app_process() as (url, pid):
            print(markdown(run_probes(url, pid)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
