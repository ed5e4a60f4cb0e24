"""Load, bounded: concurrent gradio_client users making mixed requests across every endpoint of
`python app.py` (a subprocess on 127.0.0.1, over seeded untrained weights): no errors, and the
app's memory after the run within 10% of before. `python -m bench` runs the full version
(16 users x 25 requests, bench/load.py); this is the same code, smaller."""

from __future__ import annotations

import pytest

from bench.common import app_process, memory_mb
from bench.load import load_test
from random_zoo import shared_random_weights

pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    weights = shared_random_weights(tmp_path_factory)
    with app_process(env=dict(ZOO_WEIGHTS_DIR=str(weights), ZOO_DEVICE="cpu", HF_HUB_OFFLINE="1")) as (url, pid):
        yield url, pid


def test_concurrent_users_get_answers_and_memory_does_not_grow(app, tmp_path):
    url, pid = app
    result = load_test(url, pid, users=4, requests_per_user=5, warmup_per_user=10, folder=tmp_path)
    assert result["errors"] == [], result["errors"][:3]
    assert len(result["latencies"]) == 20
    assert result["p50_ms"] <= result["p99_ms"]
    if memory_mb(pid):  # Linux: /proc
        assert result["growth"] < 0.10, f"{result['rss_before_mb']:.0f} -> {result['rss_after_mb']:.0f} MiB"
