"""Model work on this machine: encode+decode latency, sample grids, load time, import cost.

    python -m bench.zoo_speed [--repeats 200] [--models PATTERN]   (python -m bench runs it too)

Targets (issue 2, on a 2-core CPU): one-image encode + decode under 2 ms; a 64-image sample grid
under 20 ms; loading a model from the bundled files under 100 ms; `import zoo` imports neither
training code nor Gradio. Medians over `--repeats` runs, after warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent

import zoo
from zoo.weights import load_weights, resolve_weights


def median_ms(fn, repeats: int, warmup: int = 10) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@torch.inference_mode()
def bench_model(name: str, repeats: int) -> dict:
    spec = zoo.get_spec(name)
    model = zoo.create_model(name, device="cpu")
    x = torch.rand(1, *spec.input_shape)
    y1 = torch.tensor([0]) if spec.conditional else None
    y64 = torch.arange(64) % 10 if spec.conditional else None
    g = torch.Generator().manual_seed(0)
    location = resolve_weights(spec)
    return {
        "name": name,
        "encode_decode_1_ms": median_ms(lambda: model.decode(model.encode(x, y1).mean, y1), repeats),
        "sample_grid_64_ms": median_ms(lambda: model.decode(torch.randn(64, spec.latent_dim, generator=g), y64), repeats),
        "load_ms": median_ms(lambda: load_weights(spec, location.folder, torch.device("cpu")), max(repeats // 10, 5), warmup=2),
    }


def timed_ms(fn, budget_s: float = 0.4, min_repeats: int = 5, max_repeats: int = 200) -> float:
    """Median ms of `fn` after two warm-up calls, repeated for about `budget_s` seconds."""
    fn(), fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_repeats and (len(times) < min_repeats or time.perf_counter() - start < budget_s):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


@torch.inference_mode()
def throughput(name: str, batches=(1, 16, 64, 256), budget_s: float = 0.4) -> dict:
    """Images per second through encode (to the posterior) and decode (from codes), at each batch
    size, on the CPU with the current torch thread count; and the load time from the bundled files."""
    spec = zoo.get_spec(name)
    model = zoo.create_model(name, device="cpu")
    g = torch.Generator().manual_seed(0)
    rows = {}
    for b in batches:
        x = torch.rand(b, *spec.input_shape, generator=g)
        z = torch.randn(b, spec.latent_dim, generator=g)
        y = torch.arange(b) % len(spec.label_names) if spec.conditional else None
        encode_ms = timed_ms(lambda: model.encode(x, y), budget_s)
        decode_ms = timed_ms(lambda: model.decode(z, y), budget_s)
        rows[b] = dict(encode_ms=encode_ms, decode_ms=decode_ms, encode_per_s=b / encode_ms * 1000, decode_per_s=b / decode_ms * 1000)
    location = resolve_weights(spec)
    load_ms = timed_ms(lambda: load_weights(spec, location.folder, torch.device("cpu")), budget_s, min_repeats=5, max_repeats=30)
    return dict(name=name, family=spec.family, latent_dim=spec.latent_dim, batches=rows, load_ms=load_ms, source=location.source)


def import_check() -> dict:
    code = ("import sys, time; t = time.perf_counter(); import zoo; zoo.list_models(); "
            "dt = time.perf_counter() - t; heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('gradio', 'torchvision') "
            "or m in ('zoo.train', 'zoo.evaluate', 'zoo.classifier')); print(dt * 1000); print(heavy)")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True).stdout.split("\n")
            for _ in range(3)]
    return {"import_zoo_ms": statistics.median(float(r[0]) for r in runs), "heavy_modules_imported": runs[0][1]}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, Python {platform.python_version()}"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--models", default="*")
    args = parser.parse_args(argv)
    results = {"machine": machine(), "models": [bench_model(n, args.repeats) for n in zoo.list_models(args.models)]}
    results.update(import_check())
    return results


def markdown(results: dict) -> str:
    lines = ["| model | encode + decode, 1 image (ms) | sample grid, 64 images (ms) | load from bundled files (ms) |",
             "|---|---|---|---|"]
    for r in results["models"]:
        lines.append(f"| `{r['name']}` | {r['encode_decode_1_ms']:.2f} | {r['sample_grid_64_ms']:.2f} | {r['load_ms']:.1f} |")
    lines += ["", f"`import zoo` + `list_models()`: {results['import_zoo_ms']:.0f} ms (median of 3 fresh processes); "
              f"heavy modules imported: {results['heavy_modules_imported']} (training code, torchvision, Gradio: none expected)."]
    return "\n".join(lines)


if __name__ == "__main__":
    res = main()
    print(json.dumps(res, indent=2))
    print(markdown(res))
