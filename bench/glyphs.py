"""The glyphs dataset's speed targets: the build in under 5 minutes, one training epoch practical on one core.

    python -m bench.glyphs [--steps 20]

Times `build()` of the whole dataset into a temporary folder (the installed FONT_PACKAGES), then
`--steps` training steps of each glyph model at its recipe's batch size on one torch thread, and
extrapolates to one epoch of the training split. Prints one markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from bench.common import machine


def time_build() -> tuple[float, int]:
    from zoo.datasets import glyphs

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        glyphs.build(folder=folder)
        seconds = time.perf_counter() - start
        faces = len(glyphs.load_built(folder)[3]["faces"])
    return seconds, faces


def time_epochs(steps: int) -> list[tuple[str, float, float]]:
    """(model, ms per training image (CPU seconds of this process), seconds per epoch) per glyph model."""
    import zoo

    images, labels = zoo.get_dataset("glyphs").load("train")
    rows = []
    for name in zoo.list_models("*.glyphs"):
        spec = zoo.get_spec(name)
        torch.manual_seed(0)
        model = spec.model_class()(**spec.config)
        optimizer = torch.optim.Adam(model.parameters(), lr=spec.recipe.lr)
        batch = spec.recipe.batch_size
        start = time.process_time()
        for step in range(steps):
            idx = torch.randint(len(labels), (batch,), generator=torch.Generator().manual_seed(step))
            loss = model.loss(images[idx], labels[idx]).total
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        per_image = (time.process_time() - start) / (steps * batch)
        rows.append((name, 1000 * per_image, per_image * len(labels)))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    build_s, faces = time_build()
    print(f"Machine: {machine()}\n")
    print("| target | measured | held |\n|---|---|---|")
    print(f"| glyphs build < 5 min | {build_s:.0f} s for {faces} faces | {'✓' if build_s < 300 else '✗'} |")
    for name, ms, epoch_s in time_epochs(args.steps):
        print(f"| one epoch of `{name}` on one core (CPU time) | {ms:.2f} ms/image, {epoch_s / 60:.1f} min/epoch | "
              f"{'✓' if epoch_s < 1800 else '✗'} |")


if __name__ == "__main__":
    main()
