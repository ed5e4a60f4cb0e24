"""Shared fixtures. Tests are offline and run on the CPU."""

from __future__ import annotations

import os
import sys

import pytest

# zoo is imported from the editable install (`pip install -e .`), the helpers beside this file through
# pyproject.toml's pythonpath: nothing here touches sys.path.
os.environ.setdefault("ZOO_DEVICE", "cpu")
os.environ.setdefault("ZOO_DATA_DOWNLOAD", "0")  # no test reaches the internet
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))


def has_weights(name: str) -> bool:
    """Whether the zoo entry `name` has weights to load (tests of trained behaviour skip it otherwise)."""
    import zoo

    try:
        zoo.resolve_weights(zoo.get_spec(name))
        return True
    except FileNotFoundError:
        return False


@pytest.fixture
def isolated_registry():
    """Restore the registries (models, datasets, imported plugin modules) after a test that registers some."""
    from zoo import datasets, registry

    saved = (dict(registry._entrypoints), dict(registry._sources), dict(registry._specs), dict(registry.plugin_errors))
    saved_datasets = dict(datasets._datasets)
    modules = set(sys.modules)
    yield registry
    datasets._datasets.clear(); datasets._datasets.update(saved_datasets)
    registry._entrypoints.clear(); registry._entrypoints.update(saved[0])
    registry._sources.clear(); registry._sources.update(saved[1])
    registry._specs.clear(); registry._specs.update(saved[2])
    registry.plugin_errors.clear(); registry.plugin_errors.update(saved[3])
    for name in set(sys.modules) - modules:
        if name.startswith("zoo_plugins.") or name.startswith("fake_zoo_plugin"):
            del sys.modules[name]


@pytest.fixture(scope="session")
def app_url():
    """The Gradio app (app.py) serving on 127.0.0.1 at a free port, one for the session's tests (as a
    class shares one server: every test opens its own page or client)."""
    import socket

    import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = app.build_demo()
    app.launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright (tests/chromium.py), one per session for the browser tests."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt install chromium)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
