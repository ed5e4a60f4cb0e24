"""A zoo with seeded, untrained weights, and the app served over it: for the reliability suites
(tests/test_fuzz.py, test_load.py, test_faults.py), which test how the app behaves, not what the
models learnt, so they need neither the bundled weights nor their training to be finished.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import torch

import zoo
from zoo.weights import model_cache


def write_random_weights(folder: Path, names: list[str] | None = None, seed: int = 0) -> Path:
    """config.json + model.safetensors of a freshly initialised model per name, under `folder`."""
    folder = Path(folder)
    for name in names or zoo.list_models():
        if not (folder / name / "model.safetensors").is_file():
            torch.manual_seed(seed)
            zoo.create_model(name, pretrained=False, device="cpu").save_pretrained(folder / name)
    return folder


def shared_random_weights(tmp_path_factory) -> Path:
    """One folder of random weights for the whole test session (the suites copy it before breaking anything)."""
    return write_random_weights(tmp_path_factory.getbasetemp() / "random-weights")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def weights_dir(folder: Path):
    """ZOO_WEIGHTS_DIR=folder while inside; the model cache is emptied on the way out."""
    old = os.environ.get("ZOO_WEIGHTS_DIR")
    os.environ["ZOO_WEIGHTS_DIR"] = str(folder)
    try:
        yield Path(folder)
    finally:
        if old is None:
            os.environ.pop("ZOO_WEIGHTS_DIR", None)
        else:
            os.environ["ZOO_WEIGHTS_DIR"] = old
        model_cache.clear()


@contextlib.contextmanager
def served_app(folder: Path, models: str = "*"):
    """app.py's demo over the weights in `folder`, launched on 127.0.0.1 (as `python app.py` does:
    queue, concurrency limit, upload limit); yields (url, demo)."""
    import app

    with weights_dir(folder):
        demo = app.build_demo(models)
        port = free_port()
        app.launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
        try:
            yield f"http://127.0.0.1:{port}/", demo
        finally:
            demo.close()
