"""Issue 14: what a class, a careless API user and an attacker do to the served app, bounded.

Identical concurrent requests all answered; files read only from Gradio's upload folder; one
body and URL limit on every route; one concurrency group; race-free, per-view temporary folders;
short, path-free error messages; a broken card or model spoils nothing else. Plain HTTP against
the app on 127.0.0.1 (`served_app`, over seeded untrained weights). The long versions are
`python -m bench.class_load`, `bench.sessions` and `bench.probes`.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

import zoo
from bench.probes import call_named, get_status
from random_zoo import served_app, shared_random_weights
from zoo.weights import WEIGHTS_FILE

pytest.importorskip("gradio_client")

FASHION = "vae_conv_z16.fashion_mnist"


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> Path:
    return shared_random_weights(tmp_path_factory)


@pytest.fixture(scope="module")
def served(random_weights):
    with served_app(random_weights) as (url, demo):
        yield url, demo


@pytest.fixture
def http():
    with httpx.Client(timeout=120) as client:
        yield client


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def upload(http, url: str, data: bytes, name: str = "ring.png") -> str:
    response = http.post(f"{url}gradio_api/upload", files={"files": (name, data, "image/png")})
    response.raise_for_status()
    return response.json()[0]


def reconstruct_upload(http, url, file) -> tuple[str, object]:
    return call_named(http, url, "reconstruct", dataset="fashion_mnist", models=[FASHION], source="upload", upload=file)


def ring() -> np.ndarray:
    ys, xs = np.indices((64, 64))
    r = np.hypot(ys - 32, xs - 32)
    return np.where((r > 12) & (r < 20), 0, 255).astype(np.uint8)


# --- item 1: identical requests --------------------------------------------------------------


def test_identical_concurrent_requests_all_succeed(served):
    """What a class gets when everyone opens the same link: the same pictures answered to many at
    once, each downloaded as a browser does. Gradio rewrote a cached picture in place while it was
    being sent, and some downloads ended short."""
    url, _ = served
    failures, barrier = [], threading.Barrier(12)
    pair = dict(dataset="mnist", left="ae_conv_z2.mnist", right="vae_conv_z2.mnist")  # drawn once, answered many times

    def student():
        with httpx.Client(timeout=120) as http:
            barrier.wait()
            for _ in range(10):
                try:
                    kind, payload = call_named(http, url, "latent_map", **pair)
                    assert kind == "complete", payload
                    for picture in payload[:2]:
                        response = http.get(picture["url"])
                        response.raise_for_status()
                        Image.open(io.BytesIO(response.content)).load()
                except Exception as exc:  # every failure counts
                    failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    threads = [threading.Thread(target=student) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [], f"{len(failures)} of 120 failed: {failures[:2]}"


# --- item 2: temporary folders ---------------------------------------------------------------


def test_example_thumbnails_are_per_view_and_written_without_races(random_weights):
    from zoo.demo import ZooView

    views = [ZooView(), ZooView()]
    errors, barrier = [], threading.Barrier(8)

    def write(view):
        barrier.wait()
        try:
            view.example_gallery("mnist")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(views[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    folders = [Path(v.example_gallery("mnist")[0][0]).parent for v in views]
    assert folders[0] != folders[1], "two apps share one examples folder"
    for folder in folders:
        assert "vae-zoo-examples" not in str(folder)
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]  # no leftovers
    scratch = views[0].scratch
    del views, threads
    import gc

    gc.collect()
    assert not scratch.exists(), "a view's scratch folder outlives it"


# --- item 4: bounded inputs ------------------------------------------------------------------


@pytest.mark.parametrize("api, data", [
    ("reconstruct", dict(dataset="mnist", models=["cvae_conv_z8.mnist"], label="x" * 1_000_000)),
    ("reconstruct", dict(dataset="x" * 1_000_000)),
    ("sample", dict(model="<b>" * 300_000, grid_size=4)),
    ("latent_map", dict(dataset="mnist", left="y" * 500_000, right="ae_conv_z2.mnist")),
])
def test_a_huge_value_is_never_echoed_back(served, http, api, data):
    url, _ = served
    kind, payload = call_named(http, url, api, **data)
    assert kind == "error"
    assert len(json.dumps(payload)) < 600, str(payload)[:300]


def test_a_model_named_two_thousand_times_is_one_model(served, http):
    url, _ = served
    kind, payload = call_named(http, url, "reconstruct", dataset="fashion_mnist", models=[FASHION] * 2000)
    assert kind == "complete"
    assert len(payload[1]) == 1  # one reconstruction
    kind, payload = call_named(http, url, "reconstruct", dataset="fashion_mnist", models=[f"m{i}" for i in range(2000)])
    assert kind == "error" and "at most" in str(payload) and len(str(payload)) < 300


# --- item 8: file arguments ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/hostname", "/nonexistent/x.png", "/etc", "../../../etc/passwd"])
def test_a_server_path_is_never_opened(served, http, path):
    url, _ = served
    for file in ({"path": path}, {"path": path, "meta": {"_type": "gradio.FileData"}}, {"path": path, "orig_name": "a.png"}):
        kind, payload = reconstruct_upload(http, url, file)
        assert kind == "error"
        text = json.dumps(payload)
        assert path not in text and "/etc" not in text and "Error:" not in text, text


def test_a_link_in_the_upload_folder_to_a_server_file_is_refused(served, http, tmp_path):
    from gradio.utils import get_upload_folder

    url, _ = served
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(ring()))
    link = Path(get_upload_folder()) / "issue14-link" / "image.png"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    try:
        kind, payload = reconstruct_upload(http, url, {"path": str(link)})  # without meta: only the app checks it
        assert kind == "error" and "not uploaded" in str(payload) and str(tmp_path) not in str(payload)
    finally:
        shutil.rmtree(link.parent)


def test_a_real_upload_still_works(served, http):
    url, _ = served
    path = upload(http, url, png(ring()))
    kind, payload = reconstruct_upload(http, url, {"path": path, "meta": {"_type": "gradio.FileData"}})
    assert kind == "complete", payload


def test_an_unreadable_upload_names_no_server_path(served, http):
    url, _ = served
    path = upload(http, url, b"not an image at all", "x.png")
    kind, payload = reconstruct_upload(http, url, {"path": path, "meta": {"_type": "gradio.FileData"}})
    assert kind == "error" and "not an image" in str(payload)
    assert os.path.dirname(path) not in str(payload) and "/tmp" not in str(payload), payload


# --- item 9: one size limit ------------------------------------------------------------------


def data_url(data: bytes) -> dict:
    return {"url": "data:image/png;base64," + base64.b64encode(data).decode(), "path": None,
            "meta": {"_type": "gradio.FileData"}}


def test_a_data_url_over_the_upload_limit_is_refused(served, http):
    url, _ = served
    noise = png(np.random.default_rng(0).integers(0, 256, (2400, 2400), dtype=np.uint8))  # 5.8 MB
    assert len(noise) > 5 * 2**20
    status, payload = reconstruct_upload(http, url, data_url(noise))
    assert status in ("http 413", "error"), (status, str(payload)[:200])
    kind, payload = reconstruct_upload(http, url, data_url(png(ring())))  # a small one is fine
    assert kind == "complete", payload


def test_every_route_refuses_a_body_over_the_limit(served, http):
    url, _ = served
    body = b'{"data": ["' + b"x" * 20_000_000 + b'"]}'
    for route in ("gradio_api/call/sample", "gradio_api/queue/join", "gradio_api/run/predict", "gradio_api/upload"):
        response = http.post(url + route, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 413, (route, response.status_code)

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"x" * 500_000

    response = http.post(url + "gradio_api/call/sample", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


# --- item 10: one concurrency limit ----------------------------------------------------------


def test_every_endpoint_shares_one_concurrency_limit(served):
    import app

    _, demo = served
    queued = [fn for fn in demo.fns.values() if fn.queue]
    endpoints = {fn.api_name for fn in queued if fn.api_name}
    assert {"reconstruct", "sample", "interpolate", "swap_labels", "latent_map", "traverse"} <= endpoints
    assert {fn.concurrency_id for fn in queued} == {app.MODEL_CALLS}
    group = demo._queue.event_queue_per_concurrency_id.get(app.MODEL_CALLS)
    limits = {fn.concurrency_limit for fn in queued}
    assert limits == {app.CONCURRENCY} and (group is None or group.concurrency_limit == app.CONCURRENCY)


def test_a_flood_from_one_client_neither_fills_the_queue_nor_delays_the_others(served):
    """PER_CLIENT + 16 calls at once from one address, then another address's 3 small calls, one after another: the
    flood gets at most ui.fair_queue.PER_CLIENT places in the line (the rest a clear refusal), and the
    other client takes turns with it instead of waiting behind its backlog."""
    import time

    from ui.fair_queue import PER_CLIENT

    url, _ = served
    flood, other, lock = [], [], threading.Lock()
    calls = PER_CLIENT + 16
    barrier = threading.Barrier(calls + 1)

    def heavy():
        with httpx.Client(timeout=300) as http:
            barrier.wait()
            kind, payload = call_named(http, url, "sample", model="ae_conv_z2.mnist", grid_size=16, seed=1)
            with lock:
                flood.append((kind, str(payload), time.perf_counter()))

    threads = [threading.Thread(target=heavy) for _ in range(calls)]
    for t in threads:
        t.start()
    barrier.wait()
    time.sleep(1.0)  # the flood is in line
    with httpx.Client(timeout=300, transport=httpx.HTTPTransport(local_address="127.0.0.2")) as http:  # another address
        for seed in range(3):
            kind, payload = call_named(http, url, "sample", model="ae_conv_z2.mnist", grid_size=2, seed=seed)
            assert kind == "complete", payload
            other.append(time.perf_counter())
    for t in threads:
        t.join()
    answered = sorted(at for kind, _, at in flood if kind == "complete")
    refused = [text for kind, text, _ in flood if kind == "http 503"]
    assert len(answered) + len(refused) == calls, [kind for kind, _, _ in flood]
    assert refused and all("of your requests are waiting already" in text for text in refused)
    assert len(answered) <= PER_CLIENT + 2  # in line, plus the two running when the rest arrived
    assert max(other) < answered[len(answered) // 2], "the other client waited behind the flood's backlog"


# --- item 11: links, cards, broken models, paths ---------------------------------------------


def test_a_very_long_url_is_answered_cleanly(served):
    url, _ = served
    assert get_status(url, "?tab=sample&seed=" + "9" * 70_000) == 414
    assert get_status(url, "?tab=reconstruct&dataset=nope&label=x") == 200


def test_a_malformed_card_and_a_broken_model_spoil_nothing_else(random_weights, tmp_path):
    folder = shutil.copytree(random_weights, tmp_path / "weights")
    (folder / FASHION / "README.md").write_text("---\nthis: [is not: yaml\n---\n# card\n")
    broken = "vae_conv_z2.fashion_mnist"
    (folder / broken / WEIGHTS_FILE).write_bytes(b"not safetensors")
    with served_app(folder) as (url, _), httpx.Client(timeout=120) as http:
        kind, payload = call_named(http, url, "sample", model=FASHION, grid_size=2)
        assert kind == "complete", payload
        kind, payload = call_named(http, url, "reconstruct", dataset="fashion_mnist", models=[])
        assert kind == "complete", payload
        shown = [caption for _, caption in ((g["image"], g["caption"]) for g in payload[1])]
        assert any(FASHION in c for c in shown) and not any(broken in c for c in shown)
        assert broken in payload[4] and "not usable" in payload[4]
        assert str(folder) not in json.dumps(payload)
        kind, payload = call_named(http, url, "reconstruct", dataset="fashion_mnist", models=[broken])
        assert kind == "error" and broken in str(payload)
        assert str(folder) not in str(payload) and "/tmp" not in str(payload), payload


def test_link_notes_are_plain_text_and_short():
    import gradio as gr

    import app
    from zoo.demo.links import link_notes

    demo = app.build_demo()
    notes = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "link-notes")
    assert isinstance(notes, gr.Textbox)  # never Markdown or HTML
    text = link_notes([f"ignored k{i}" for i in range(500)])
    assert len(text) < 200 and "492 more" in text


def test_the_upload_limit_is_one_number():
    from gradio.utils import _parse_file_size

    import app
    from ui import guard

    assert _parse_file_size(app.MAX_FILE_SIZE) == guard.MAX_FILE_BYTES
    assert guard.MAX_BODY_BYTES >= guard.MAX_FILE_BYTES * 4 / 3  # a file at the limit fits inline as base64


def test_sessions_kept_are_bounded(served):
    import app

    _, demo = served
    assert demo.state_holder.capacity == app.SESSIONS  # Gradio's per-session copy of the page: oldest out first
    assert any(any(t[1] == "unload" for t in fn.targets) for fn in demo.fns.values())  # and a closed tab's is dropped
