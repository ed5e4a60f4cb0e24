"""The shapes datasets' and models' speed: rendering the grid, and one-image encode + decode under 5 ms.

    python -m bench.shapes [--images 5000] [--calls 300]

Renders `--images` grid images of `shapes` and of `shapes_rgb` from their factors, then times
`--calls` one-image encode + decode of every shapes model with weights, on one torch thread.
Prints one markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from bench.common import machine


def render_rates(images: int) -> dict[str, float]:
    """Images per second rendered from their factors, per dataset."""
    import zoo

    rates = {}
    for name in ("shapes", "shapes_rgb"):
        dataset = zoo.get_dataset(name)
        factors = dataset.factors("test")[:images]
        start = time.perf_counter()
        dataset.render(factors)
        rates[name] = len(factors) / (time.perf_counter() - start)
    return rates


@torch.inference_mode()
def one_image_ms(calls: int) -> list[tuple[str, float, float]]:
    """(model, median ms, p90 ms) of encode + decode of one image, per shapes model with weights."""
    import zoo

    rows = []
    for name in zoo.list_models("*.shapes*"):
        try:
            model = zoo.create_model(name, device="cpu")
        except FileNotFoundError:
            continue
        spec = zoo.get_spec(name)
        x = torch.rand(1, *spec.input_shape)
        y = torch.zeros(1, dtype=torch.long) if spec.conditional else None
        times = []
        for i in range(calls + 20):  # the first 20 warm up
            start = time.perf_counter()
            model.decode(model.encode(x, y).mean, y)
            if i >= 20:
                times.append((time.perf_counter() - start) * 1000)
        rows.append((name, statistics.median(times), statistics.quantiles(times, n=10)[-1]))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"Machine: {machine()}\n")
    print("| target | measured | held |\n|---|---|---|")
    for name, rate in render_rates(args.images).items():
        print(f"| rendering `{name}` | {rate:,.0f} images/s | — |")
    for name, median, p90 in one_image_ms(args.calls):
        print(f"| `{name}`: one-image encode + decode < 5 ms | median {median:.2f} ms, p90 {p90:.2f} ms | "
              f"{'✓' if median < 5 else '✗'} |")


if __name__ == "__main__":
    main()
