"""Live in the page (ui/live.py, web/live.js): the browser decodes with onnxruntime-web.

In Debian's Chromium through Playwright: once the page and its models are loaded, dragging each live
control (Interpolate's t, a Traverse slider, Sample's temperature, the pointer over a latent map,
strokes on the draw-and-watch pad) makes no HTTP request at all until the drag ends; the page's
decoded pixels equal PyTorch's decode of the same code within 2/255; nothing is fetched from
outside the app's origin; and without WebAssembly the page says so and stays on the server path.
"""

from __future__ import annotations

import base64
import io
from urllib.parse import urlsplit

import numpy as np
import pytest
import torch
from PIL import Image

import zoo
from chromium import NEEDS_CHROMIUM
from ui import live
from zoo.demo.images import prepare

TIMEOUT_MS = 120_000  # a loaded 2-core machine: the first load runs every tab once
PIXEL_TOLERANCE = 2  # of 255
TICKS = 12

pytestmark = [
    NEEDS_CHROMIUM,
    pytest.mark.skipif(not live.local_runtime(), reason="onnxruntime-web is not installed beside the app: npm ci --prefix web"),
    pytest.mark.skipif(not all((zoo.get_spec(n).bundled_dir / "model.safetensors").is_file() for n in zoo.list_models()
                               if not zoo.get_spec(n).study),
                       reason="the app's default views need the weights of every model in the pickers"),
]
sync_api = pytest.importorskip("playwright.sync_api")


class Recorder:
    """Every request the page makes, by URL."""

    def __init__(self, page):
        self.urls: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))

    def http(self, since: int = 0) -> list[str]:
        return [u for u in self.urls[since:] if urlsplit(u).scheme in ("http", "https", "ws", "wss")]


@pytest.fixture(scope="module")
def loaded(browser, app_url):
    """One page with the runtime and every model's sessions loaded, its requests recorded from the start."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests = Recorder(page)
    page.goto(app_url)
    page.wait_for_selector("#rec-gallery img")  # the first load runs every tab once
    page.wait_for_function("window.vaeZooLive && window.vaeZooLive.status !== 'loading'")
    assert page.evaluate("window.vaeZooLive.status") == "ready", page.inner_text("#live-status")
    page.evaluate("window.vaeZooLive.preload()")
    yield page, requests
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def drag(page, selector: str, start: float, end: float, ticks: int = TICKS, press: bool = True) -> tuple[float, float]:
    """Press on `selector` at fraction `start` of its width, move in `ticks` steps to `end`; the mouse stays down
    (with `press` False the pointer only hovers)."""
    page.locator(selector).first.scroll_into_view_if_needed()
    box = page.locator(selector).first.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, y)
    if press:
        page.mouse.down()
    for i in range(1, ticks + 1):
        page.mouse.move(box["x"] + box["width"] * (start + (end - start) * i / ticks), y)
        page.wait_for_timeout(25)
    return box["x"] + box["width"] * end, y


def settle(page, kind: str, before: int) -> int:
    """Wait until the page has decoded for `kind` since `before` timings, and nothing is queued."""
    page.wait_for_function("([k, n]) => window.vaeZooLive.timings.slice(n).some(([kind]) => kind === k)", arg=[kind, before])
    page.wait_for_timeout(200)
    return sum(1 for k, *_ in page.evaluate("window.vaeZooLive.timings")[before:] if k == kind)


def shown_pixels(page, selector: str) -> np.ndarray:
    src = page.locator(selector).first.get_attribute("src")
    assert src.startswith("data:image/png;base64,"), "the page did not draw this picture itself"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L")).astype(int)


def quiet(page, requests: Recorder, seconds: float = 1.5) -> None:
    """Wait until the page has made no request for `seconds` (what a drag's end sent has been answered)."""
    count = -1
    while count != len(requests.urls):
        count = len(requests.urls)
        page.wait_for_timeout(seconds * 1000)


def timings(page) -> int:
    return page.evaluate("window.vaeZooLive.timings.length")


def test_nothing_is_fetched_from_outside_the_apps_origin(loaded, app_url):
    page, requests = loaded
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(app_url))
    outside = [u for u in requests.http() if not u.startswith(origin)]
    assert outside == []
    fetched = " ".join(requests.http())
    assert "ort-wasm-simd-threaded.wasm" in fetched and "decoder.onnx" in fetched  # the runtime and the models came from here
    assert "served by this app" in page.inner_text("#live-status")


@pytest.mark.parametrize("tab, selector, kind, start, end", [
    ("Interpolate", "#itp-t input[type=range]", "interpolate", 0.1, 0.9),
    ("Traverse", "#trv-slider-0 input[type=range]", "traverse", 0.2, 0.8),
    ("Sample", "#smp-temp input[type=range]", "sample", 0.2, 0.6),
    ("Latent map", "#map-left-img img", "latent_map", 0.3, 0.7),
    ("Latent map", "#map-draw-pad", "draw", 0.3, 0.7),
])
def test_dragging_a_control_makes_no_request(loaded, tab, selector, kind, start, end):
    page, requests = loaded
    page.get_by_role("tab", name=tab).click()
    page.locator(selector).first.wait_for(state="visible")
    # A tab computes when first shown: wait until the server has handed the page its state, and gone quiet.
    page.wait_for_function("(k) => window.vaeZooLive.state[k]", arg="latent_map" if kind == "draw" else kind)
    quiet(page, requests)
    before, since = timings(page), len(requests.urls)
    drag(page, selector, start, end, press=kind != "latent_map")  # the map decodes what the pointer hovers
    decoded = settle(page, kind, before)
    assert requests.http(since) == [], f"{kind}: requests during the drag"
    assert decoded >= 1
    if kind != "latent_map":
        page.mouse.up()  # the drag's end may update the link (a request): that is allowed
    quiet(page, requests)


def test_the_shown_traverse_picture_is_pytorchs_decode(loaded):
    page, requests = loaded
    page.get_by_role("tab", name="Traverse").click()
    page.wait_for_function("window.vaeZooLive.state.traverse")
    quiet(page, requests)
    before = timings(page)
    drag(page, "#trv-slider-1 input[type=range]", 0.3, 0.65)
    settle(page, "traverse", before)
    state = page.evaluate("window.vaeZooLive.state.traverse")
    # The number boxes hold the sliders' values; a range input shows them snapped to its step (-1.11 as -1.1).
    values = [float(page.locator(f"#trv-slider-{i} input[type=number]").input_value()) for i in range(len(state["dims"]))]
    shown = shown_pixels(page, "#trv-decoded img")  # before the drag ends, which asks the server for its picture
    page.mouse.up()
    quiet(page, requests)
    z = torch.tensor(state["mean"])
    z[state["dims"]] = torch.tensor(values)
    model = zoo.create_model(state["name"], device="cpu")
    label = torch.tensor([state["label"]]) if state["label"] is not None else None
    expected = np.kron(np.round(model.decode(z[None], label)[0, 0].numpy() * 255), np.ones((4, 4)))
    assert shown.shape == expected.shape
    assert np.abs(shown - expected).max() <= PIXEL_TOLERANCE


def test_sample_grids_are_decoded_ahead_at_every_temperature_step(loaded):
    # A drag over the temperature is then a lookup; each grid is PyTorch's decode of the same draws at that step.
    page, requests = loaded
    page.get_by_role("tab", name="Sample").click()
    page.wait_for_function("window.vaeZooLive.state.sample")
    assert page.evaluate("window.vaeZooLive.state.sample.values[0]") == 1  # the steps nearest 1 come first
    quiet(page, requests)  # what earlier tests' drags sent when they ended (link updates) has been answered
    since = len(requests.urls)
    page.wait_for_function("['0.9000', '1.1000'].every((t) => window.vaeZooLive.sampleAhead.pictures.has(t))")
    assert requests.http(since) == []  # decoded in the page
    state = page.evaluate("window.vaeZooLive.state.sample")
    model = zoo.create_model(state["name"], device="cpu")
    _, h, w = model.input_shape
    for t in ("0.9000", "1.1000"):
        src = page.evaluate("(t) => window.vaeZooLive.sampleAhead.pictures.get(t)", t)
        grid = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L")).astype(int)
        labels = torch.tensor(state["y"]) if state.get("y") is not None else None
        images = model.decode(torch.tensor(state["z"]) * float(t), labels)[:, 0].numpy()  # (N, H, W)
        for k, image in enumerate(images):
            top, left = 2 + (k // state["columns"]) * (2 * h + 2), 2 + (k % state["columns"]) * (2 * w + 2)
            tile = grid[top:top + 2 * h, left:left + 2 * w]
            assert np.abs(tile - np.kron(np.round(image * 255), np.ones((2, 2)))).max() <= PIXEL_TOLERANCE, (t, k)


@pytest.mark.parametrize("name", ["ae_conv_z2.mnist", "vae_conv_z16.fashion_mnist", "cvae_conv_z8.mnist"])
def test_page_decodes_fixed_codes_like_pytorch(loaded, name):
    page, requests = loaded
    model = zoo.create_model(name, device="cpu")
    codes = torch.linspace(-2, 2, 4 * model.latent_dim).reshape(4, model.latent_dim)
    labels = [0, 3, 5, 9] if model.conditional else None
    since = len(requests.urls)
    decoded = page.evaluate("async ([n, z, y]) => Array.from(await window.vaeZooLive.decode(n, z, y))",
                            [name, codes.tolist(), labels])
    assert requests.http(since) == []  # the session was loaded before
    expected = model.decode(codes, torch.tensor(labels) if labels else None).numpy().reshape(-1)
    assert np.abs(np.round(np.array(decoded) * 255) - np.round(expected * 255)).max() <= PIXEL_TOLERANCE


def test_a_drawing_is_reconstructed_like_pytorch(loaded):
    """Draw and watch: the pad's pixels as the page frames them, through PyTorch's encoder (μ) and decoder,
    give the reconstruction the page paints beside the pad, within 2/255 (the left map's unconditional model)."""
    page, requests = loaded
    page.get_by_role("tab", name="Latent map").click()
    page.wait_for_function("window.vaeZooLive.state.latent_map")
    quiet(page, requests)
    page.locator("#map-draw-clear").click()
    before = timings(page)
    drag(page, "#map-draw-pad", 0.3, 0.7)
    page.mouse.up()
    settle(page, "draw", before)
    quiet(page, requests)
    name = page.evaluate("window.vaeZooLive.state.latent_map.left.name")
    model = zoo.create_model(name, device="cpu")
    assert not model.conditional
    pixels = page.evaluate("(n) => Array.from(window.vaeZooLive.draw.pixels(window.VAE_ZOO_LIVE.models[n]))", name)
    painted = page.evaluate("""() => { const c = document.querySelector('#map-draw-left canvas');
        return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }""")
    width, height, rgba = painted
    assert (height, width) == tuple(model.input_shape[1:])  # one canvas pixel per image pixel, enlarged by CSS
    # The page frames the drawing as the server frames an upload (images.prepare), though it reads only the part
    # of the pad its strokes reached: the same crop, scale and centring (the resampling filters differ a little).
    pad = page.evaluate("() => document.getElementById('map-draw-pad').toDataURL('image/png')")
    grey = np.asarray(Image.open(io.BytesIO(base64.b64decode(pad.split(",", 1)[1]))).convert("L"), dtype=np.float32) / 255
    framed = prepare(grey, zoo.get_spec(name).dataset)
    assert np.abs(framed - np.array(pixels).reshape(framed.shape)).mean() < 0.02
    x = torch.tensor(pixels, dtype=torch.float32).reshape(1, *model.input_shape)
    expected = np.round(model.decode(model.encode(x).mean)[0, 0].detach().numpy() * 255)
    shown = np.array(rgba).reshape(height, width, 4)[..., 0]
    assert np.abs(shown - expected).max() <= PIXEL_TOLERANCE
    page.locator("#map-draw-clear").click()


def test_without_webassembly_the_page_says_so_and_uses_the_server(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script("delete window.WebAssembly;")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    requests = Recorder(page)
    page.goto(app_url + "?tab=traverse")
    page.wait_for_function("window.vaeZooLive && window.vaeZooLive.status === 'failed'")
    assert "no WebAssembly" in page.inner_text("#live-status")
    page.wait_for_selector("#trv-decoded img")
    page.wait_for_function("() => location.search.includes('label=auto')")
    before = page.locator("#trv-decoded img").get_attribute("src")
    since = len(requests.urls)
    x, y = drag(page, "#trv-slider-0 input[type=range]", 0.2, 0.9, ticks=4)
    page.mouse.up()
    page.wait_for_function("(b) => { const i = document.querySelector('#trv-decoded img'); return i && i.src !== b; }", arg=before)
    assert any("/gradio_api/" in u for u in requests.http(since))  # the server decoded it
    assert not page.locator("#trv-decoded img").get_attribute("src").startswith("data:")
    context.close()


def test_without_a_local_runtime_the_page_uses_the_pinned_cdn_copy(monkeypatch, tmp_path):
    from zoo.demo import ZooView

    monkeypatch.setattr(live, "LOCAL_DIST", tmp_path)  # nothing installed there
    manifest = live.manifest(ZooView("vae_conv_z2.mnist"))
    assert manifest["runtime"]["source"] == "cdn"
    assert manifest["runtime"]["base"] == f"https://cdn.jsdelivr.net/npm/onnxruntime-web@{live.RUNTIME['version']}/dist/"
    assert set(manifest["runtime"]["files"]) == set(live.RUNTIME["files"])  # each with its SRI hash


def test_the_pinned_hashes_are_the_installed_files():
    import hashlib

    package = (live.LOCAL_DIST.parent / "package.json").read_text()
    assert f'"version": "{live.RUNTIME["version"]}"' in package
    for name, sri in live.RUNTIME["files"].items():
        digest = base64.b64encode(hashlib.sha384((live.LOCAL_DIST / name).read_bytes()).digest()).decode()
        assert sri == f"sha384-{digest}", name


def test_the_app_serves_its_files_and_export_folders_that_hold_nothing_else():
    """Static paths: live.js, the runtime's files, and each live model's onnx/ folder, holding its two exports only."""
    from pathlib import Path

    from zoo.demo import ZooView
    from zoo.onnx import DECODER_FILE, ENCODER_FILE

    view = ZooView()
    paths = [Path(p) for p in live.static_paths(view)]
    folders = [p for p in paths if p.is_dir()]
    assert len(folders) == len(live.live_models(view)) and len(paths) == len(set(paths))
    for folder in folders:
        assert {f.name for f in folder.iterdir()} == {ENCODER_FILE, DECODER_FILE}, folder
    assert all(p.is_file() for p in paths if p not in folders)
    assert live.SCRIPT.resolve() in paths
