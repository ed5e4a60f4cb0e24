"""The app's plots, drawn by matplotlib (zoo/demo/plots.py), against the hand-drawn PIL plots they
replaced (zoo/demo/images.py at commit c535fc2, read from git), side by side in one run.

    python -m bench.plots [--repeats 15]

What is timed: a latent map of the 800 shipped examples of a 2-D model (without and with σ
ellipses) and the posterior plot of two models (16-D and 2-D), on synthetic codes of the same
shapes. Medians in ms. A latent map is drawn once per model and cached; a posterior plot is
drawn on every reconstruction.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.zoo_speed import median_ms
from zoo.demo import plots

OLD_COMMIT = "c535fc2"  # the last commit with the PIL plots
REPO_ROOT = Path(__file__).resolve().parent.parent


def old_plots():
    """The PIL module the plots replaced, from git; None outside a clone."""
    try:
        source = subprocess.run(["git", "show", f"{OLD_COMMIT}:zoo/demo/images.py"], cwd=REPO_ROOT, capture_output=True,
                                text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "old_images.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_images", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_images"] = module
    spec.loader.exec_module(module)
    return module


def run(repeats: int = 15) -> dict:
    rng = np.random.default_rng(0)
    points, labels = rng.normal(size=(800, 2)), rng.integers(0, 10, 800)
    sigma = np.abs(rng.normal(size=(800, 2))) * 0.1 + 0.05
    cov = np.zeros((800, 2, 2))
    cov[:, 0, 0], cov[:, 1, 1] = sigma[:, 0] ** 2, sigma[:, 1] ** 2
    names = [str(i) for i in range(10)]
    rows = [("vae 16-D", rng.normal(size=16), np.abs(rng.normal(size=16)) * 0.3), ("ae 2-D", rng.normal(size=2), np.zeros(2))]
    new = {
        "latent map": lambda: plots.latent_scatter(points, labels, 3.2, "map", ("z0", "z1"), None, names),
        "latent map, σ ellipses": lambda: plots.latent_scatter(points, labels, 3.2, "map", ("z0", "z1"), cov, names),
        "posterior plot": lambda: plots.posterior_plot(rows),
    }
    old = old_plots()
    before = {}
    if old is not None:
        frame = old.MapFrame(-3.2, 3.2)
        before = {
            "latent map": lambda: old.latent_scatter(points, labels, frame, "map", ("z0", "z1"), None, names),
            "latent map, σ ellipses": lambda: old.latent_scatter(points, labels, frame, "map", ("z0", "z1"), cov, names),
            "posterior plot": lambda: old.posterior_plot(rows),
        }
    out = {}
    for name, fn in new.items():  # interleaved, so both see the same machine load
        out[name] = dict(matplotlib_ms=median_ms(fn, repeats), pil_ms=median_ms(before[name], repeats) if before else None)
    return out


def markdown(result: dict) -> str:
    lines = ["| plot | PIL, by hand (before) | matplotlib (now) | ratio |", "|---|---|---|---|"]
    for name, row in result.items():
        pil = f"{row['pil_ms']:.1f} ms" if row["pil_ms"] else "—"
        ratio = f"{row['matplotlib_ms'] / row['pil_ms']:.1f}×" if row["pil_ms"] else "—"
        lines.append(f"| {name} | {pil} | {row['matplotlib_ms']:.1f} ms | {ratio} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    print(markdown(run(args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
