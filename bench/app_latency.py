"""The app's speed, as a user feels it: endpoint round trips and cold start.

    python -m bench.app_latency [--repeats 30] [--starts 3] [--skip-cold-start] [--dataset shapes]

1. Round trips through gradio_client. The app is launched once, with a twin beside each of the
   six endpoints: the same inputs and outputs, but a function that returns the endpoint's own
   answer to the same arguments, memoised when the endpoint gave it just before. The twin costs
   what Gradio itself costs for that very answer (queue, pre/post-processing, encoding and
   serving the same pictures, the HTTP round trip); the endpoint costs that plus the model's
   work. Calls alternate between the two, after a warm-up; the target is median(endpoint) <=
   1.25 x median(twin). (A twin that answered its first picture every time was unfair: a PNG's
   encoding time depends on what it shows, 50 ms for one Traverse sweep and 250 ms for another.)
2. Cold start: seconds from starting `python app.py` to the page answering HTTP 200, next to a
   bare Gradio app that imports torch and serves one Markdown block; alternated, `--starts`
   each, medians compared. Target: app <= 1.5 x bare.

With `--dataset`, every endpoint is asked about that dataset's models instead of its defaults
(the first unconditional and the first conditional model the app offers on it): e.g. the 64×64 and
colour ones of `shapes` and `shapes_rgb`.

Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

from bench.common import free_port, wait_for_page

ENDPOINTS = ["reconstruct", "sample", "interpolate", "swap_labels", "latent_map", "traverse"]
# Each endpoint is called with its defaults, except the numbers below, varied per call so that
# no cache inside the app (an interpolation's frames, say) can answer in its place.
VARIED = {"reconstruct": "example_index", "sample": "seed", "interpolate": "b_index", "swap_labels": "a_index",
          "latent_map": None, "traverse": "example_index"}


def add_twins(demo) -> dict[str, list[float]]:
    """Beside each endpoint, `<name>_twin`: same inputs and outputs, answering the endpoint's own
    answer to the same arguments from a memo (the endpoint is called first). Also
    times each endpoint's own function (the model's work, in its worker thread); returns those
    times, ms, per endpoint."""
    import gradio as gr

    fns = {fn.api_name: fn for fn in demo.fns.values() if fn.api_name in ENDPOINTS}
    handler_ms = {name: [] for name in fns}
    with demo:
        for name, fn in fns.items():
            original = fn.fn
            memo = {}  # arguments -> the endpoint's answer

            def timed(*args, _fn=original, _times=handler_ms[name], _memo=memo):
                start = time.perf_counter()
                try:
                    answer = _memo[repr(args)] = _fn(*args)
                    return answer
                finally:
                    _times.append((time.perf_counter() - start) * 1000)

            def twin(*args, _fn=original, _memo=memo):
                key = repr(args)
                if key not in _memo:  # the timed loop calls the endpoint first, with the same arguments
                    _memo[key] = _fn(*args)
                return _memo[key]

            twin = functools.wraps(original)(twin)  # the same parameter names, so the client calls both alike
            fn.fn = functools.wraps(original)(timed)

            trigger = gr.Button(visible=False)
            trigger.click(twin, fn.inputs, fn.outputs, api_name=f"{name}_twin")
    return handler_ms


def dataset_arguments(dataset: str) -> dict[str, dict]:
    """Each endpoint's arguments that point it at `dataset`'s models (as the app offers them)."""
    from zoo.demo import ZooView

    view = ZooView()
    plain = view.models(dataset=dataset, conditional=False)
    conditional = view.models(dataset=dataset, conditional=True)
    if not plain or not conditional:
        raise SystemExit(f"{dataset}: the app offers no unconditional and conditional model pair with weights")
    vae, cvae = plain[0], conditional[0]
    return {"reconstruct": dict(dataset=dataset, models=[vae]), "sample": dict(model=vae), "interpolate": dict(model=vae),
            "swap_labels": dict(model=cvae), "latent_map": dict(dataset=dataset, left=vae, right=cvae),
            "traverse": dict(model=vae)}


def round_trips(repeats: int, dataset: str | None = None) -> list[dict]:
    import app
    from gradio_client import Client

    fixed = dataset_arguments(dataset) if dataset else {name: {} for name in ENDPOINTS}
    demo = app.build_demo()
    handler_ms = add_twins(demo)
    port = free_port()
    app.launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    rows = []
    try:
        for name in ENDPOINTS:
            varied = VARIED[name]
            for i in range(3):  # warm-up: loads models, draws latent maps, fills the twin's memo
                client.predict(api_name=f"/{name}", **fixed[name], **({varied: i} if varied else {}))
                client.predict(api_name=f"/{name}_twin", **fixed[name], **({varied: i} if varied else {}))
            real, twin = [], []
            handler_ms[name].clear()  # time only the timed calls, not the warm-up
            for i in range(repeats):
                kwargs = {**fixed[name], **({varied: 10 + i} if varied else {})}
                for endpoint, times in ((f"/{name}", real), (f"/{name}_twin", twin)):
                    start = time.perf_counter()
                    client.predict(api_name=endpoint, **kwargs)
                    times.append((time.perf_counter() - start) * 1000)
            med_real, med_twin = statistics.median(real), statistics.median(twin)
            p90 = lambda times: statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]  # noqa: E731
            work = statistics.median(handler_ms[name])
            rows.append(dict(endpoint=f"/{name}", real_ms=med_real, twin_ms=med_twin, ratio=med_real / med_twin,
                             real_p90_ms=p90(real), twin_p90_ms=p90(twin), work_ms=work))
            print(f"/{name:12s} {med_real:7.1f} ms   twin {med_twin:7.1f} ms   x{med_real / med_twin:.2f}   "
                  f"(handler {work:.1f} ms)", flush=True)
    finally:
        demo.close()
    return rows


BARE_APP = textwrap.dedent("""
    import sys
    import torch  # noqa: F401
    import gradio as gr
    with gr.Blocks() as demo:
        gr.Markdown("bare")
    demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]))
""")


def time_to_page(command: list[str], port: int, timeout: float = 120.0) -> float:
    """Seconds from starting `command` until GET / on `port` answers 200."""
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_page(f"http://127.0.0.1:{port}/", process, timeout)
        return time.perf_counter() - start
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def cold_starts(starts: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(BARE_APP)
        bare = f.name
    app_times, bare_times = [], []
    try:
        for _ in range(starts):
            port = free_port()
            app_times.append(time_to_page([sys.executable, "app.py", "--port", str(port)], port))
            port = free_port()
            bare_times.append(time_to_page([sys.executable, bare, str(port)], port))
            print(f"cold start: app {app_times[-1]:.2f} s, bare gradio + torch {bare_times[-1]:.2f} s", flush=True)
    finally:
        os.unlink(bare)
    app_s, bare_s = statistics.median(app_times), statistics.median(bare_times)
    return dict(app_s=app_s, bare_s=bare_s, ratio=app_s / bare_s, app_all=app_times, bare_all=bare_times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per endpoint (and as many of its twin)")
    parser.add_argument("--starts", type=int, default=3, help="cold starts of each app")
    parser.add_argument("--skip-cold-start", action="store_true")
    parser.add_argument("--skip-round-trips", action="store_true")
    parser.add_argument("--dataset", help="ask every endpoint about this dataset's models (e.g. shapes) instead of its defaults")
    args = parser.parse_args(argv)

    import torch

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}, python {platform.python_version()}")
    rows = [] if args.skip_round_trips else round_trips(args.repeats, args.dataset)
    cold = None if args.skip_cold_start else cold_starts(args.starts)

    print("\n| endpoint | median round trip | trivial twin | ratio (target ≤ 1.25) | the handler itself |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| `{r['endpoint']}` | {r['real_ms']:.1f} ms | {r['twin_ms']:.1f} ms | {r['ratio']:.2f} | {r['work_ms']:.1f} ms |")
    if cold:
        print(f"\n| cold start to page served | median of {args.starts} |\n|---|---|")
        print(f"| `python app.py` | {cold['app_s']:.2f} s |\n| bare Gradio app importing torch | {cold['bare_s']:.2f} s |")
        print(f"| ratio (target ≤ 1.5) | {cold['ratio']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
