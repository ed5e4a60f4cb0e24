"""How the cost of the app's work grows: a latent map of 1k, 5k and 10k points, and a sample grid
of 16, 64 and 256 images (model time and the whole handler), on one torch thread as the app
runs each request.

    python -m bench.growth [--models PATTERN]

Targets: the decode of a 256-image sample grid under 100 ms; a latent map's cost growing at most
linearly with its points (log-log slope from 1k to 10k at most 1, with 10% slack for noise).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import zoo
from bench.zoo_speed import timed_ms
from zoo.demo import ZooView, tabs
from zoo.demo.examples import load_examples

MAP_POINTS = (1000, 5000, 10000)
GRID_IMAGES = (16, 64, 256)


def write_examples(dataset: str, n: int, folder: Path) -> Path:
    """`n` examples of `dataset` (the shipped ones, repeated) where ZooView(examples_dir=folder) finds them."""
    from safetensors.numpy import save_file

    ex = load_examples(dataset)
    reps = math.ceil(n / len(ex))
    images = (np.tile(ex.images, (reps, 1, 1))[:n] * 255).round().astype(np.uint8)
    labels = np.tile(ex.labels, reps)[:n].astype(np.int64)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"images": images, "labels": labels}, str(folder / f"{dataset}.safetensors"))
    return folder


def latent_map_cost(name: str, points=MAP_POINTS, repeats: int = 3) -> dict:
    """ms to encode `n` examples and draw their map (the first, uncached call of the latent map tab),
    median of `repeats` fresh ZooViews; and the log-log slope of cost against points."""
    dataset = zoo.get_spec(name).dataset
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in points:
            folder = write_examples(dataset, n, Path(tmp) / str(n))
            encode, total = [], []
            for _ in range(repeats):
                zd = ZooView(name, examples_dir=folder)
                start = time.perf_counter()
                zd.encoded(name)
                middle = time.perf_counter()
                tabs.latent_map.latent_map(zd, name)
                total.append((time.perf_counter() - start) * 1000)
                encode.append((middle - start) * 1000)
            rows[n] = dict(total_ms=statistics.median(total), encode_ms=statistics.median(encode))
    lo, hi = min(points), max(points)
    slope = math.log(rows[hi]["total_ms"] / rows[lo]["total_ms"]) / math.log(hi / lo)
    return dict(name=name, points=rows, slope=slope)


@torch.inference_mode()
def sample_grid_cost(name: str, sizes=GRID_IMAGES) -> dict:
    """Per grid of n images: the model's decode of n codes (ms), and the sample tab's whole call."""
    spec = zoo.get_spec(name)
    zd = ZooView(name)
    model = zd.model(name)
    rows = {}
    for n in sizes:
        side = int(round(math.sqrt(n)))
        z = torch.randn(n, spec.latent_dim, generator=torch.Generator().manual_seed(0))
        y = torch.zeros(n, dtype=torch.long) if spec.conditional else None
        label = spec.label_names[0] if spec.conditional else "each"
        decode_ms = timed_ms(lambda: model.decode(z, y))
        seeds = iter(range(10**6))
        handler_ms = timed_ms(lambda: tabs.sample.sample(zd, name, grid_size=side, seed=next(seeds), label=label))
        rows[n] = dict(decode_ms=decode_ms, handler_ms=handler_ms)
    return dict(name=name, grids=rows)


def map_models(pattern: str = "*") -> list[str]:
    """The maps worth timing: per dataset, a 2-D model (drawn directly) and the largest (PCA)."""
    names = zoo.list_models(pattern)
    chosen = []
    for dataset in sorted({zoo.get_spec(n).dataset for n in names}):
        mine = [n for n in names if zoo.get_spec(n).dataset == dataset]
        two_d = [n for n in mine if zoo.get_spec(n).latent_dim == 2]
        largest = max(mine, key=lambda n: zoo.get_spec(n).latent_dim)
        chosen += sorted({*(two_d[:1]), largest})
    return chosen


def run(pattern: str = "*", points=MAP_POINTS, sizes=GRID_IMAGES, repeats: int = 3) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the app runs each request
    try:
        maps = [latent_map_cost(n, points, repeats) for n in map_models(pattern)]
        grids = [sample_grid_cost(n, sizes) for n in zoo.list_models(pattern)]
    finally:
        torch.set_num_threads(threads)
    return dict(maps=maps, grids=grids)


def markdown(results: dict) -> str:
    maps, grids = results["maps"], results["grids"]
    points = list(maps[0]["points"]) if maps else []
    lines = ["**Latent map** (encode the examples, project, draw: the first, uncached call; median of fresh starts):", ""]
    if points:
        lines += ["| model | " + " | ".join(f"{n:,} points" for n in points)
                  + f" | ms per 1k points at {points[-1]:,} | growth exponent (target ≤ 1.1) |",
                  "|---|" + "---|" * (len(points) + 2)]
    for m in maps:
        cells = [f"{r['total_ms']:.0f} ms (encode {r['encode_ms']:.0f})" for r in m["points"].values()]
        last = m["points"][points[-1]]["total_ms"] / points[-1] * 1000
        ok = "✓" if m["slope"] <= 1.1 else "✗"
        lines.append(f"| `{m['name']}` | " + " | ".join(cells) + f" | {last:.0f} | {m['slope']:.2f} {ok} |")
    sizes = list(grids[0]["grids"]) if grids else []
    lines += ["", "**Sample grid** (decode: the model's time; handler: the sample tab, decode plus drawing the grid):", "",
              "| model | " + " | ".join(f"{n} images: decode / handler" for n in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for g in grids:
        cells = [f"{r['decode_ms']:.1f} / {r['handler_ms']:.1f} ms" for r in g["grids"].values()]
        lines.append(f"| `{g['name']}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="*")
    args = parser.parse_args(argv)
    print(markdown(run(args.models)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
