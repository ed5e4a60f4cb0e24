"""Live in the page (issue 10): what a student's drag costs, in Chromium, on this machine.

    python -m bench.live [--ticks 60] [--drag-seconds 30] [--out BENCHMARKS.md]

`python app.py` runs in a subprocess (its CPU time is its own); Debian's Chromium drives the page
through Playwright. In one run:

1. Tick to pixels per live control (Interpolate's t, a Traverse slider, Sample's temperature, the
   pointer over a latent map, strokes on the draw-and-watch pad): from the DOM input event to the
   picture written into the page (img.src set) and to the next painted frame; median and p95 over
   `--ticks` moves, with the HTTP requests sent during the drag. Goal for the 28x28 models:
   median <= 16 ms, p95 <= 33 ms.
2. First load: bytes downloaded (the page, the runtime, the models) and seconds from opening the
   page to the runtime being ready and to the first live decode.
3. Server CPU seconds (utime + stime of the app's process) during a `--drag-seconds` drag of a
   Traverse slider in the live page (goal: none), and during the same time of moves on the server
   path (the page without WebAssembly: each move a press, move and release, one round trip).
4. Today's round trip: the server path per move (release to the server's picture), median and
   p95, and requests per move, in the same run.

Prints Markdown; with --out, writes it between `<!-- bench:live -->` markers in that file.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import time
from pathlib import Path

from bench.common import REPO_ROOT, app_process, machine, percentile

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
TIMEOUT_MS = 180_000
# control -> (tab, selector, press while moving)
CONTROLS = {
    "interpolate": ("Interpolate", "#itp-t input[type=range]", True),
    "traverse": ("Traverse", "#trv-slider-0 input[type=range]", True),
    "sample": ("Sample", "#smp-temp input[type=range]", True),
    "latent_map": ("Latent map", "#map-left-img img", False),
    "draw": ("Latent map", "#map-draw-pad", True),
}


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (from /proc)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http(urls: list[str]) -> list[str]:
    return [u for u in urls if u.startswith(("http:", "https:"))]


def open_page(browser, url: str, wasm: bool = True):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if not wasm:
        context.add_init_script("delete window.WebAssembly;")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    urls, sizes = [], []
    page.on("request", lambda r: urls.append(r.url))

    def finished(request):
        with contextlib.suppress(Exception):  # a request still finishing when its page is closed has no sizes
            sizes.append((request.url, request.sizes()["responseBodySize"]))

    page.on("requestfinished", finished)
    return context, page, urls, sizes


def sweep(page, selector: str, ticks: int, press: bool, pause_ms: int = 40) -> None:
    """Move across `selector` back and forth in `ticks` steps, pressed (a drag) or hovering."""
    page.locator(selector).first.scroll_into_view_if_needed()
    box = page.locator(selector).first.bounding_box()
    y = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    if press:
        page.mouse.down()
    for i in range(ticks):
        phase = (i % 40) / 40
        frac = 0.2 + 0.6 * (2 * phase if phase < 0.5 else 2 - 2 * phase)
        page.mouse.move(box["x"] + box["width"] * frac, y + (box["height"] * 0.3 * ((i % 7) - 3) / 3 if press and "pad" in selector else 0))
        page.wait_for_timeout(pause_ms)


def first_load(browser, url: str) -> dict:
    context, page, urls, sizes = open_page(browser, url + "?tab=traverse")
    start = time.perf_counter()
    page.goto(url + "?tab=traverse")
    page.wait_for_function("window.vaeZooLive && window.vaeZooLive.status !== 'loading'")
    ready = time.perf_counter() - start
    page.wait_for_function("window.vaeZooLive.state.traverse")
    before = page.evaluate("window.vaeZooLive.timings.length")
    sweep(page, CONTROLS["traverse"][1], 2, True)
    page.mouse.up()
    page.wait_for_function("(n) => window.vaeZooLive.timings.length > n", arg=before)
    first = time.perf_counter() - start
    page.wait_for_timeout(500)
    total = sum(size for _, size in sizes)
    runtime = sum(size for u, size in sizes if "onnxruntime-web" in u)
    models = sum(size for u, size in sizes if u.endswith(".onnx"))
    context.close()
    return dict(ready_s=ready, first_decode_s=first, total_mb=total / 1e6, runtime_mb=runtime / 1e6, models_mb=models / 1e6,
                requests=len(http(urls)))


# The models each control is measured on, by image size: a link opens the tab on that model (or dataset).
GROUPS = {
    "28×28": {"model": "vae_conv_z16.fashion_mnist", "dataset": "fashion_mnist"},
    "64×64": {"model": "vae_conv_z32.glyphs", "dataset": "glyphs"},
}
TAB_IDS = {"interpolate": "interpolate", "traverse": "traverse", "sample": "sample", "latent_map": "latent_map", "draw": "latent_map"}

# One grid decoded on demand (what a tick between steps, or before the steps are decoded, costs): ms per call.
SAMPLE_DECODE = """async (n) => { const s = window.vaeZooLive.state.sample, ms = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); await window.vaeZooLive.decode(s.name, s.z.map((r) => r.map((v) => v * 0.7)), s.y);
    ms.push(performance.now() - t0); }
  return ms; }"""


def ticks_to_pixels(browser, url: str, ticks: int, group: dict) -> dict:
    """Each control opened by a link on `group`'s model (or dataset), `ticks` moves; Sample after its steps are decoded ahead."""
    context, page, urls, _ = open_page(browser, url)
    rows = {}
    for kind, (tab, selector, press) in CONTROLS.items():
        query = f"dataset={group['dataset']}" if TAB_IDS[kind] == "latent_map" else f"model={group['model']}"
        page.goto(f"{url}?tab={TAB_IDS[kind]}&{query}")
        page.wait_for_function("window.vaeZooLive && window.vaeZooLive.status === 'ready'")
        page.evaluate("window.vaeZooLive.preload()")  # every model's sessions: the first load is measured apart
        page.locator(selector).first.wait_for(state="visible")
        page.wait_for_function("(k) => window.vaeZooLive.state[k === 'draw' ? 'latent_map' : k]", arg=kind)
        extra = {}
        if kind == "sample":
            started = time.perf_counter()
            page.wait_for_function("(a => a.steps > 0 && a.pictures.size === a.steps)(window.vaeZooLive.sampleAhead)")
            extra = dict(ahead_s=time.perf_counter() - started, steps=page.evaluate("window.vaeZooLive.sampleAhead.steps"),
                         on_demand=page.evaluate(SAMPLE_DECODE, 9),
                         grid=len(page.evaluate("window.vaeZooLive.state.sample.z")))
        page.wait_for_timeout(1500)
        before, since = page.evaluate("window.vaeZooLive.timings.length"), len(urls)
        sweep(page, selector, ticks, press)
        page.wait_for_timeout(500)
        during = len(http(urls[since:]))
        if press:
            page.mouse.up()
        page.wait_for_timeout(1500)
        times = [t for t in page.evaluate("window.vaeZooLive.timings")[before:] if t[0] == kind]
        state = page.evaluate(f"window.vaeZooLive.state[{'latent_map' if kind == 'draw' else kind!r}]")
        model = state.get("name") if "name" in state else state.get("left", {}).get("name")
        rows[kind] = dict(model=model, n=len(times), written=[t[1] for t in times], painted=[t[2] for t in times],
                          requests=during, **extra)
    context.close()
    return rows


def traverse_page(browser, url: str, wasm: bool):
    """The Traverse tab loaded (live, or without WebAssembly on the server path); its first slider's box."""
    context, page, urls, _ = open_page(browser, url + "?tab=traverse", wasm=wasm)
    page.goto(url + "?tab=traverse")
    page.wait_for_function(f"window.vaeZooLive && window.vaeZooLive.status === {'ready' if wasm else 'failed'!r}")
    page.wait_for_selector("#trv-decoded img")
    page.wait_for_timeout(3000)
    slider = page.locator(CONTROLS["traverse"][1]).first
    slider.scroll_into_view_if_needed()  # the mouse reaches only what is in the viewport (a 64×64 model's tab is tall)
    box = slider.bounding_box()
    return context, page, urls, box, box["y"] + box["height"] / 2


def server_path(browser, url: str, moves: int) -> dict:
    """The page without WebAssembly: each Traverse move a press, move and release, answered by the server."""
    context, page, urls, box, y = traverse_page(browser, url, wasm=False)
    times, requests = [], []
    for i in range(moves):
        src = page.locator("#trv-decoded img").get_attribute("src")
        since = len(urls)
        frac = 0.25 + 0.5 * ((i * 7) % 11) / 10
        page.mouse.move(box["x"] + box["width"] * frac, y)
        start = time.perf_counter()
        page.mouse.down()
        page.mouse.up()
        try:
            page.wait_for_function("(b) => { const i = document.querySelector('#trv-decoded img'); return i && i.complete && i.src !== b; }",
                                   arg=src, timeout=10_000)
        except Exception:
            continue  # the same value again: no new picture
        times.append((time.perf_counter() - start) * 1000)
        page.wait_for_timeout(300)
        requests.append(len(http(urls[since:])))
    context.close()
    return dict(times=times, requests=requests)


def drag_cpu(browser, url: str, pid: int, seconds: float, wasm: bool) -> dict:
    context, page, urls, box, y = traverse_page(browser, url, wasm)
    cpu, since, moves = cpu_seconds(pid), len(urls), 0
    end = time.perf_counter() + seconds
    if wasm:
        page.mouse.move(box["x"] + box["width"] * 0.2, y)
        page.mouse.down()
    while time.perf_counter() < end:
        frac = 0.2 + 0.6 * abs(((moves % 40) / 20) - 1)
        page.mouse.move(box["x"] + box["width"] * frac, y)
        if not wasm:  # the server path: each move is answered when it is released
            page.mouse.down()
            page.mouse.up()
        moves += 1
        page.wait_for_timeout(40)
    requests = len(http(urls[since:]))
    used = cpu_seconds(pid) - cpu
    if wasm:
        page.mouse.up()
    context.close()
    return dict(cpu_s=used, moves=moves, requests=requests)


def idle_cpu(browser, url: str, pid: int, seconds: float) -> dict:
    """The app's CPU while the same page sits open and untouched: what a drag's own cost is measured against
    (the server's event loop, Gradio's heartbeats to the open page)."""
    context, page, urls, _, _ = traverse_page(browser, url, wasm=True)
    cpu, since = cpu_seconds(pid), len(urls)
    page.wait_for_timeout(seconds * 1000)
    used, requests = cpu_seconds(pid) - cpu, len(http(urls[since:]))
    context.close()
    return dict(cpu_s=used, requests=requests)


def stats(values) -> str:
    return f"{statistics.median(values):.1f} | {percentile(values, 95):.1f}" if values else "— | —"


def run(ticks: int, drag_seconds: float) -> str:
    from playwright.sync_api import sync_playwright

    lines = [f"Machine: {machine()}.", ""]
    with app_process() as (url, pid), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        load = first_load(browser, url)
        tables = {size: ticks_to_pixels(browser, url, ticks, group) for size, group in GROUPS.items()}
        server = server_path(browser, url, max(10, ticks // 3))
        idle = idle_cpu(browser, url, pid, drag_seconds)
        live_cpu = drag_cpu(browser, url, pid, drag_seconds, wasm=True)
        server_cpu = drag_cpu(browser, url, pid, drag_seconds, wasm=False)
        browser.close()
    for size, rows in tables.items():
        lines += [f"**{size} models.** Tick to pixels (goal: median ≤ 16 ms, p95 ≤ 33 ms):", "",
                  "| control (model) | ticks | to picture written, ms: median | p95 | to frame painted, ms: median | p95 | "
                  "HTTP requests during the drag |", "|---|---|---|---|---|---|---|"]
        for kind, row in rows.items():
            held = "✓" if row["painted"] and statistics.median(row["painted"]) <= 16 and percentile(row["painted"], 95) <= 33 else "✗"
            lines.append(f"| {kind} ({row['model']}) | {row['n']} | {stats(row['written'])} | {stats(row['painted'])} {held} | "
                         f"{row['requests']} |")
        sample = rows["sample"]
        lines += ["", f"Sample: the {sample['steps']} temperature steps of its {sample['grid']}-image grid were decoded in the "
                      f"background {sample['ahead_s']:.1f} s after the draws arrived (the drag above ran after that); one grid "
                      f"decoded on demand (a value between steps, or a tick before that) takes "
                      f"{stats(sample['on_demand']).replace(' | ', ' ms median, p95 ')} ms of decoding alone.", ""]
    lines += ["", f"Server path, same run (the page without WebAssembly; Traverse, each move pressed and released): "
              f"release to the server's picture median {stats(server['times']).replace(' | ', ' ms, p95 ')} ms over "
              f"{len(server['times'])} moves, {statistics.mean(server['requests']) if server['requests'] else float('nan'):.1f} "
              "HTTP requests per move.", "",
              f"First load (Traverse opened by a link): runtime ready after {load['ready_s']:.1f} s, first live decode after "
              f"{load['first_decode_s']:.1f} s; {load['total_mb']:.1f} MB downloaded in {load['requests']} requests, of which the "
              f"runtime {load['runtime_mb']:.1f} MB and the ONNX models {load['models_mb']:.1f} MB (only the model on screen "
              "is fetched until another is used).", "",
              f"Server CPU during a {drag_seconds:.0f} s drag of a Traverse slider: live {live_cpu['cpu_s']:.2f} s "
              f"({live_cpu['moves']} moves, {live_cpu['requests']} requests); server path {server_cpu['cpu_s']:.2f} s "
              f"({server_cpu['moves']} moves, {server_cpu['requests']} requests); the same page open and untouched for as long: "
              f"{idle['cpu_s']:.2f} s ({idle['requests']} requests)."]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    content = path.read_text()
    block = f"<!-- bench:live -->\n{text}\n<!-- /bench:live -->"
    if "<!-- bench:live -->" in content:
        content = re.sub(r"<!-- bench:live -->.*?<!-- /bench:live -->", lambda _: block, content, flags=re.S)
    else:
        content += f"\n## Live in the browser (issue 10)\n\nMeasured by `python -m bench.live`.\n\n{block}\n"
    path.write_text(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ticks", type=int, default=60, help="moves per control (default 60)")
    parser.add_argument("--drag-seconds", type=float, default=30.0, help="length of the drags whose server CPU is measured")
    parser.add_argument("--out", type=Path, help="write the results into this Markdown file (e.g. BENCHMARKS.md)")
    args = parser.parse_args()
    text = run(args.ticks, args.drag_seconds)
    print(text)
    if args.out:
        write_section(args.out if args.out.is_absolute() else REPO_ROOT / args.out, text)


if __name__ == "__main__":
    main()
