"""Every benchmark, one command; the results go into BENCHMARKS.md with the machine's description.

    python -m bench [--quick] [--out BENCHMARKS.md] [--random-weights]

1. Model work (bench/zoo_speed.py): encode and decode images/s at batch 1, 16, 64, 256 per
   model, on one torch thread (as the app runs each request); load time from the bundled files.
2. Endpoint latency (bench/app_latency.py): each endpoint through gradio_client, median and p90,
   next to a trivial twin with the same inputs and outputs in the same run; cold start of
   `python app.py` next to a bare Gradio app that imports torch.
3. How cost grows (bench/growth.py, bench/load.py): latent map of 1k/5k/10k points, sample grid
   of 16/64/256 images, 1/4/16 concurrent users.
4. Memory (bench/memory.py): peak RSS of `python app.py` with every model loaded.
5. Load (bench/load.py): 16 users x 25 mixed requests, errors, p50/p99, memory before/after.
6. Reliability: the fuzz, fault and load suites (tests/test_fuzz.py, test_faults.py,
   test_load.py) with more examples, and what they counted.

Only the parts of BENCHMARKS.md between `<!-- bench:NAME -->` markers are rewritten; text
outside them (notes, earlier runs) stays. `--quick` is a smoke run with small settings.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

TARGETS = dict(endpoint_ratio=1.25, cold_start_ratio=1.5, grid_256_ms=100.0, map_slope=1.1, peak_mb=1.5e9 / 2**20, growth=0.10)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


# ---------------------------------------------------------------------------------------------
# The parts


def model_work(budget_s: float) -> dict:
    import torch

    from bench import zoo_speed
    import zoo

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = [zoo_speed.throughput(n, budget_s=budget_s) for n in zoo.list_models()]
    finally:
        torch.set_num_threads(threads)
    return dict(models=rows, imports=zoo_speed.import_check())


def model_work_md(result: dict) -> str:
    rows = result["models"]
    batches = list(rows[0]["batches"])
    lines = ["## Model work", "",
             "Images per second through `encode` (image → posterior) and `decode` (code → image), CPU, one torch thread "
             "(as the app runs each request), median of repeated calls after warm-up; load: building the model from "
             "`config.json` + `model.safetensors` with strict checks.", "",
             "| model | " + " | ".join(f"batch {b}: encode / decode" for b in batches) + " | load |",
             "|---|" + "---|" * (len(batches) + 1)]
    for r in rows:
        cells = [f"{v['encode_per_s']:,.0f} / {v['decode_per_s']:,.0f}" for v in r["batches"].values()]
        lines.append(f"| `{r['name']}` | " + " | ".join(cells) + f" | {r['load_ms']:.1f} ms |")
    imports = result["imports"]
    lines += ["", f"Weights: {rows[0]['source']} (and likewise for each model). `import zoo` + `list_models()`: "
              f"{imports['import_zoo_ms']:.0f} ms in a fresh process (median of 3); heavy modules it imports: "
              f"{imports['heavy_modules_imported']} (none expected)."]
    return "\n".join(lines)


def endpoint_latency(repeats: int, starts: int) -> dict:
    from bench import app_latency

    rows = app_latency.round_trips(repeats)
    cold = app_latency.cold_starts(starts) if starts else None
    return dict(rows=rows, cold=cold, repeats=repeats, starts=starts)


def endpoint_latency_md(result: dict, when: str) -> str:
    lines = [f"### Run by `python -m bench`, {when}", "",
             f"{result['repeats']} calls of each endpoint alternating with its twin, after warm-up; same run, same process.", "",
             "| endpoint | median | p90 | twin median | twin p90 | ratio of medians (target ≤ 1.25) |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| `{r['endpoint']}` | {r['real_ms']:.1f} ms | {r['real_p90_ms']:.1f} ms | {r['twin_ms']:.1f} ms | "
                     f"{r['twin_p90_ms']:.1f} ms | {r['ratio']:.2f} {mark(r['ratio'] <= TARGETS['endpoint_ratio'])} |")
    cold = result["cold"]
    if cold:
        lines += ["", f"| cold start to page served | median of {result['starts']} | all |", "|---|---|---|",
                  f"| `python app.py` | {cold['app_s']:.2f} s | {', '.join(f'{t:.2f}' for t in cold['app_all'])} |",
                  f"| bare Gradio app importing torch | {cold['bare_s']:.2f} s | {', '.join(f'{t:.2f}' for t in cold['bare_all'])} |",
                  f"| ratio (target ≤ 1.5) | {cold['ratio']:.2f} {mark(cold['ratio'] <= TARGETS['cold_start_ratio'])} | |"]
    return "\n".join(lines)


def app_under_load(users_list, requests: int, warmup: int) -> dict:
    from bench import load, memory
    from bench.common import app_process

    with app_process() as (url, pid):
        log("memory: every model in every tab")
        mem = memory.peak_memory(url, pid)
        runs = []
        for users in users_list:
            log(f"load: {users} users x {requests} requests")
            runs.append(load.load_test(url, pid, users=users, requests_per_user=requests, warmup_per_user=warmup))
    return dict(memory=mem, runs=runs)


def growth_md(growth_result: dict, load_result: dict) -> str:
    from bench import growth, load

    return "\n".join(["## How cost grows", "", "On one torch thread, as the app runs each request.", "",
                      growth.markdown(growth_result), "",
                      "**Concurrent users** (`python app.py` in a subprocess; each user a gradio_client session making mixed "
                      "requests across all six endpoints one after another; the app runs two requests at a time):", "",
                      load.markdown(load_result["runs"])])


def memory_md(load_result: dict) -> str:
    from bench import memory

    return "\n".join(["## Memory", "", memory.markdown(load_result["memory"])])


def load_md(run: dict) -> str:
    ok = not run["errors"] and run.get("growth", 0) < TARGETS["growth"]
    lines = ["## Load", "",
             f"{run['users']} concurrent gradio_client users × {run['requests'] // run['users']} mixed requests across all "
             f"six endpoints (random models, examples, seeds, sizes; about 30% of reconstructions upload a PNG) against "
             f"`python app.py` on 127.0.0.1, after a warm-up with the same mix.", "",
             f"- requests: {run['requests']}, errors: **{len(run['errors'])}** {mark(not run['errors'])}",
             f"- round trip: p50 {run['p50_ms']:.0f} ms, p90 {run['p90_ms']:.0f} ms, p99 {run['p99_ms']:.0f} ms; "
             f"throughput {run['throughput']:.1f} requests/s over {run['wall_s']:.1f} s",
             ]
    if run.get("rss_before_mb"):
        lines.append(f"- app memory (RSS) before → after: {run['rss_before_mb']:.0f} → {run['rss_after_mb']:.0f} MiB "
                     f"({run['growth']:+.1%}; target within 10%) {mark(run['growth'] < TARGETS['growth'])}")
    for api_name, kwargs, message in run["errors"][:5]:
        lines.append(f"- error: `{api_name}` {kwargs}: {message[:200]}")
    lines.append("")
    lines.append(f"Held: {'yes' if ok else 'no'}.")
    return "\n".join(lines)


def reliability(scale: float) -> dict:
    """The reliability suites under pytest, with `scale` times the fuzz examples; their counts."""
    with tempfile.TemporaryDirectory() as tmp:
        report, junit = Path(tmp) / "fuzz.json", Path(tmp) / "junit.xml"
        env = dict(os.environ, FUZZ_SCALE=str(scale), FUZZ_REPORT=str(report))
        env.pop("ZOO_WEIGHTS_DIR", None)  # the suites make their own weights
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "tests/test_fuzz.py", "tests/test_faults.py", "tests/test_load.py",
                               "-q", "-p", "no:cacheprovider", "-o", "addopts=", f"--junitxml={junit}"],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        counts = json.loads(report.read_text()) if report.is_file() else {}
        cases = []
        if junit.is_file():
            for case in ET.parse(junit).getroot().iter("testcase"):
                outcome = "failed" if case.find("failure") is not None or case.find("error") is not None else (
                    "skipped" if case.find("skipped") is not None else "passed")
                cases.append(dict(file=case.get("classname", "").split(".")[-1], name=case.get("name"), outcome=outcome))
    summary = (proc.stdout.strip().splitlines() or [""])[-1]
    return dict(counts=counts, cases=cases, summary=summary, seconds=seconds, returncode=proc.returncode, scale=scale,
                failures=[c for c in cases if c["outcome"] == "failed"])


def reliability_md(rel: dict, load_run: dict | None) -> str:
    counts = rel["counts"]
    direct = {k: v for k, v in counts.items() if not k.startswith("client ")}
    client = {k: v for k, v in counts.items() if k.startswith("client ")}
    total = lambda d: sum(sum(v.values()) for v in d.values())  # noqa: E731
    part = lambda d, key: sum(v.get(key, 0) for v in d.values())  # noqa: E731
    by_file: dict[str, dict] = {}
    for case in rel["cases"]:
        by_file.setdefault(case["file"], {"passed": 0, "failed": 0, "skipped": 0})[case["outcome"]] += 1
    lines = [f"`pytest tests/test_fuzz.py tests/test_faults.py tests/test_load.py` with `FUZZ_SCALE={rel['scale']:g}` "
             f"({rel['seconds']:.0f} s): {rel['summary']}", "",
             "| suite | what was tried | what held |", "|---|---|---|",
             f"| fuzz, handlers called directly (hypothesis) | {total(direct):,} generated cases: images of random size "
             f"(0 to 300 px, plus 4000×4000), mode, dtype and content (empty, 1×1, NaN- and inf-filled, noise, strokes), "
             f"files in six formats and non-image bytes (empty, text, truncated, decompression bombs), unknown models, "
             f"out-of-range and non-numeric numbers, links | {part(direct, 'answer'):,} valid answers, "
             f"{part(direct, 'error'):,} clear errors (ValueError / gr.Error with a message), 0 tracebacks; the app "
             f"answered a normal request after each endpoint's run |",
             f"| fuzz, through gradio_client against the app on 127.0.0.1 | {total(client):,} requests (generated "
             f"arguments and one-at-a-time edge cases, uploads as files) | {part(client, 'answer'):,} answers, "
             f"{part(client, 'error'):,} errors with a message, 0 generic \"the app raised an exception\" errors; the app "
             f"kept answering |"]
    faults = by_file.get("test_faults", {})
    lines.append(f"| weight and plugin faults | 12 kinds of broken files (truncated, wrong shape, missing and extra tensors, "
                 f"config that does not match, is a list, null, not JSON or missing, empty, not safetensors, a header claiming "
                 f"a terabyte), a weights path that is a folder; the app over five broken models and three plugins (one "
                 f"raising on import, one with a bad spec and a raising entry, one fine) | {faults.get('passed', 0)} of "
                 f"{sum(faults.values())} tests pass: each error names the model and the file; the app starts and every other "
                 f"model answers in every tab that fits it |")
    load_bounded = by_file.get("test_load", {})
    lines.append(f"| load, bounded (test suite) | 4 users × 5 mixed requests | "
                 f"{'passed' if load_bounded.get('passed') else 'failed'}: no errors, memory within 10% |")
    if load_run:
        lines.append(f"| load, full (section Load) | {load_run['users']} users × {load_run['requests'] // load_run['users']} "
                     f"requests = {load_run['requests']} | {len(load_run['errors'])} errors"
                     + (f", memory {load_run['growth']:+.1%}" if "growth" in load_run else "") + " |")
    if rel["failures"]:
        lines += ["", "Failed: " + ", ".join(f"`{c['file']}::{c['name']}`" for c in rel["failures"])]
    return "\n".join(lines)


def targets_md(latency: dict, growth_result: dict, under_load: dict, machine: str, when: str, quick: bool) -> str:
    rows = []
    if latency:
        worst = max(latency["rows"], key=lambda r: r["ratio"])
        held = [r["endpoint"] for r in latency["rows"] if r["ratio"] <= TARGETS["endpoint_ratio"]]
        rows.append(("endpoint median ≤ 1.25 × trivial twin", f"{len(held)} of {len(latency['rows'])} endpoints; worst "
                     f"`{worst['endpoint']}` {worst['ratio']:.2f}", len(held) == len(latency["rows"])))
        if latency["cold"]:
            c = latency["cold"]
            rows.append(("cold start ≤ 1.5 × bare Gradio + torch", f"{c['app_s']:.2f} s vs {c['bare_s']:.2f} s = {c['ratio']:.2f}",
                         c["ratio"] <= TARGETS["cold_start_ratio"]))
    if growth_result:
        worst_grid = max((g["grids"][max(g["grids"])]["decode_ms"], g["name"]) for g in growth_result["grids"])
        rows.append(("sample grid of 256: model time < 100 ms", f"slowest `{worst_grid[1]}` {worst_grid[0]:.1f} ms",
                     worst_grid[0] < TARGETS["grid_256_ms"]))
        worst_map = max((m["slope"], m["name"]) for m in growth_result["maps"])
        rows.append(("latent map cost at most linear (exponent ≤ 1.1)", f"largest exponent {worst_map[0]:.2f} (`{worst_map[1]}`)",
                     worst_map[0] <= TARGETS["map_slope"]))
    if under_load:
        mem = under_load["memory"]
        rows.append(("peak RSS of the app with every model loaded < 1.5 GB", f"{mem['peak_mb']:.0f} MiB",
                     mem["peak_mb"] < TARGETS["peak_mb"]))
        run = under_load["runs"][-1]
        rows.append((f"load {run['users']} × {run['requests'] // run['users']}: no errors", f"{len(run['errors'])} errors, "
                     f"p50 {run['p50_ms']:.0f} ms, p99 {run['p99_ms']:.0f} ms", not run["errors"]))
        if "growth" in run:
            rows.append(("load: memory after within 10% of before", f"{run['rss_before_mb']:.0f} → {run['rss_after_mb']:.0f} MiB "
                         f"({run['growth']:+.1%})", run["growth"] < TARGETS["growth"]))
    lines = [f"Last `python -m bench`{' --quick (smoke settings, not the full run)' if quick else ''}: {when}, on {machine}.", "",
             "| target | measured | held |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {mark(ok)} |" for t, m, ok in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# BENCHMARKS.md: only the marked blocks are rewritten


def put_block(text: str, name: str, content: str, where: str = "end") -> str:
    """Replace the block `name` in `text`, or add it: after the title ("top"), at the end of the
    section whose heading is `where` ("## App"), or at the end."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{content.strip()}\n{end}"
    if start in text and end in text:
        return text[: text.index(start)] + block + text[text.index(end) + len(end):]
    if where == "top" and text.startswith("# "):
        first, _, rest = text.partition("\n")
        return f"{first}\n\n{block}\n\n{rest.lstrip()}"
    if where.startswith("#") and where in text:
        heading = text.index(where)
        following = re.search(r"^(<!-- bench:[\w-]+ -->\n)?## ", text[heading + len(where):], flags=re.M)  # with its marker
        cut = heading + len(where) + following.start() if following else len(text)
        return text[:cut].rstrip() + "\n\n" + block + "\n\n" + text[cut:]
    return text.rstrip() + "\n\n" + block + "\n"


def write_report(path: Path, blocks: list[tuple[str, str, str]]) -> None:
    text = path.read_text() if path.is_file() else "# Benchmarks\n"
    for name, content, where in blocks:
        text = put_block(text, name, content, where)
    path.write_text(text.rstrip() + "\n")


# ---------------------------------------------------------------------------------------------


def missing_weights() -> list[str]:
    import zoo

    missing = []
    for name in zoo.list_models():
        try:
            zoo.resolve_weights(zoo.get_spec(name))
        except FileNotFoundError:
            missing.append(name)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few repeats, small load, no extra fuzz examples")
    parser.add_argument("--out", default=str(REPO_ROOT / "BENCHMARKS.md"))
    parser.add_argument("--random-weights", action="store_true",
                        help="benchmark seeded untrained weights (same shapes) instead of the bundled ones, e.g. while training")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: model,latency,growth,load,reliability")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    os.environ.setdefault("ZOO_DEVICE", "cpu")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

    if args.random_weights:
        from tests.random_zoo import write_random_weights  # run from the repo root: `python -m bench`

        folder = Path(tempfile.mkdtemp(prefix="bench-weights-"))
        os.environ["ZOO_WEIGHTS_DIR"] = str(write_random_weights(folder))
    elif missing := missing_weights():
        print(f"error: no trained weights for {', '.join(missing)}; train them (`python -m zoo train --all`) "
              f"or run with --random-weights", file=sys.stderr)
        return 2

    from bench.common import machine

    description = machine()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if args.random_weights:
        description += "; **seeded untrained weights** (--random-weights)"
    log(f"machine: {description}")
    quick = args.quick
    blocks = []
    work = latency = grown = under_load = None

    if "model" not in skip:
        log("model work")
        work = model_work(budget_s=0.1 if quick else 0.5)
        blocks.append(("model-work", model_work_md(work), "end"))
    if "latency" not in skip:
        log("endpoint latency and cold start")
        latency = endpoint_latency(repeats=5 if quick else 30, starts=1 if quick else 3)
        blocks.append(("app", endpoint_latency_md(latency, when), "## App"))
    if "growth" not in skip:
        from bench import growth

        log("latent map and sample grid growth")
        grown = growth.run(repeats=1 if quick else 3)
    if "load" not in skip:
        under_load = app_under_load([1, 4] if quick else [1, 4, 16], requests=5 if quick else 25, warmup=3 if quick else 10)
        blocks.append(("memory", memory_md(under_load), "end"))
        if grown:
            blocks.append(("growth", growth_md(grown, under_load), "end"))
        blocks.append(("load", load_md(under_load["runs"][-1]), "end"))
    elif grown:
        from bench import growth

        blocks.append(("growth", "## How cost grows\n\n" + growth.markdown(grown), "end"))
    if "reliability" not in skip:
        log("reliability suites")
        rel = reliability(scale=1 if quick else 4)
        content = reliability_md(rel, under_load["runs"][-1] if under_load else None)
        heading = "## Reliability"  # hand-written notes may follow the numbers in this section
        path = Path(args.out)
        if heading in (path.read_text() if path.is_file() else ""):
            blocks.append(("reliability", content, heading))
        else:
            blocks.append(("reliability", f"{heading}\n\n{content}", "end"))
    blocks.insert(0, ("summary", targets_md(latency, grown, under_load, description, when, quick), "top"))
    write_report(Path(args.out), blocks)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
