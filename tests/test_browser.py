"""The app in a real browser: Playwright driving Debian's Chromium (never a downloaded one).

Loads the page, runs each tab once and saves a screenshot of each under test-artifacts/; opens a
link with a query string and checks the view it restores. Skipped where /usr/bin/chromium is
missing (install it with `apt install chromium`; `.ci/run` does).
"""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import numpy as np
import pytest
from PIL import Image

import zoo
from chromium import NEEDS_CHROMIUM

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TIMEOUT_MS = 30_000

pytestmark = [
    NEEDS_CHROMIUM,
    pytest.mark.skipif(not all((zoo.get_spec(n).bundled_dir / "model.safetensors").is_file() for n in zoo.list_models()),
                       reason="the app's default views need every model's weights"),
]
sync_api = pytest.importorskip("playwright.sync_api")

# tab label -> (its id in links, a number input to change, run button, an output image that must change)
TABS = {
    "Reconstruct": ("reconstruct", "#rec-index input", "#rec-run", "#rec-gallery img"),
    "Sample": ("sample", "#smp-seed input", "#smp-run", "#smp-grid img"),
    "Interpolate": ("interpolate", "#itp-b-index input", "#itp-run", "#itp-strip img"),
    "Label swap": ("swap_labels", "#swp-a-index input", "#swp-run", "#swp-row img"),
    "Latent map": ("latent_map", None, "#map-run", "#map-right-img img"),  # right: the VAE, which has σ
    "Traverse": ("traverse", "#trv-index input", "#trv-run", "#trv-grid img"),
}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def image_at(page, selector: str) -> np.ndarray:
    src = page.locator(selector).first.get_attribute("src")
    with urllib.request.urlopen(urljoin(page.url, src)) as response:
        return np.asarray(Image.open(io.BytesIO(response.read())))


def wait_for_image_change(page, selector: str, before: str | None) -> None:
    page.wait_for_function(
        """([sel, before]) => { const img = document.querySelector(sel); return img && img.complete && img.src && img.src !== before; }""",
        arg=[selector, before], timeout=TIMEOUT_MS)


def test_each_tab_runs_and_is_screenshotted(page, app_url):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(app_url)
    page.wait_for_selector("#rec-gallery img")  # the first load runs the first tab; each other one runs when first shown
    for tab, (tab_id, number, button, output) in TABS.items():
        page.get_by_role("tab", name=tab).click()
        page.wait_for_selector(output, state="visible")
        before = page.locator(output).first.get_attribute("src")
        if number:
            page.locator(number).fill("5")
        else:
            page.locator("#map-ellipses input").check()
        page.locator(button).click()
        wait_for_image_change(page, output, before)
        page.wait_for_timeout(300)
        query = dict(parse_qsl(urlsplit(page.url).query))
        assert query.get("tab") == tab_id, page.url
        page.screenshot(path=str(ARTIFACTS / f"tab-{tab_id}.png"), full_page=True)


def test_clicking_the_latent_map_decodes_there(page, app_url):
    page.goto(app_url + "?tab=latent_map")
    image = page.locator("#map-left-img img").first
    image.wait_for(state="visible")
    box = image.bounding_box()
    image.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.45})
    page.wait_for_selector("#map-decoded img")
    assert "decoded at" in page.locator("#map-caption").inner_text()


def test_a_link_restores_the_view(page, app_url):
    from gradio_client import Client

    name = sorted(zoo.list_models(), key=lambda n: -zoo.get_spec(n).latent_dim)[-1]
    page.goto(app_url + f"?tab=sample&model={name}&n=3&seed=42&temp=0.6&label=each")
    page.wait_for_selector("#smp-grid img")
    page.wait_for_function("() => location.search.includes('seed=42')")
    assert page.get_by_role("tab", name="Sample").get_attribute("aria-selected") == "true"
    assert page.locator("#smp-seed input").input_value() == "42"
    shown = image_at(page, "#smp-grid img")
    grid, *_ = Client(app_url, verbose=False).predict(model=name, grid_size=3, seed=42, temperature=0.6, label="each",
                                                      api_name="/sample")
    assert np.array_equal(shown, np.asarray(Image.open(grid)))
    assert f"model={name}" in page.locator("#share-url textarea, #share-url input").first.input_value()


def test_drawing_an_input_and_an_empty_sketch(page, app_url):
    page.goto(app_url)
    page.wait_for_selector("#rec-gallery img")
    page.locator("#rec-source").get_by_text("draw", exact=True).click()
    page.locator("#rec-run").click()  # nothing drawn yet
    page.get_by_text("the sketch is empty").first.wait_for()
    page.locator("#rec-sketch button[aria-label='Brush']").click()
    box = page.locator("#rec-sketch canvas").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + i, y + i * 8)
    page.mouse.up()
    page.locator("#rec-run").click()
    page.wait_for_selector("#rec-preview img")
    page.wait_for_selector("#rec-gallery img")
    preview = image_at(page, "#rec-preview img")
    assert preview.max() > 200 and preview[:, :10].max() < 50  # a light stroke in the middle, dark margins
    page.wait_for_function("() => !location.search.includes('&a=')")  # a drawing cannot travel in a link
    page.screenshot(path=str(ARTIFACTS / "reconstruct-drawing.png"), full_page=True)


def test_moving_t_looks_up_frames(page, app_url):
    # The server path (the page without WebAssembly; tests/test_live.py drives the in-page decoding)
    page.add_init_script("delete window.WebAssembly;")
    page.goto(app_url + "?tab=interpolate&steps=5&t=0")
    page.wait_for_selector("#itp-frame img")
    page.wait_for_function("() => location.search.includes('t=0')")
    first = image_at(page, "#itp-frame img")
    # Drag t to its end: letting go asks the server for the precomputed frame (a lookup) and updates the link.
    slider = page.locator("#itp-t input[type=range]")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.1 * i) + 4, y)
    page.mouse.up()
    page.wait_for_function("() => location.search.includes('t=1')")
    page.wait_for_timeout(300)
    last = image_at(page, "#itp-frame img")
    assert not np.array_equal(first, last)
    strip = image_at(page, "#itp-strip img")
    assert np.array_equal(last[::2, ::2], strip[2:58, -58:-2])  # the strip's last frame (its tiles are half the size)


def test_a_bad_link_still_opens_with_a_note(page, app_url):
    page.goto(app_url + "?tab=sample&model=no_such_model.mnist&seed=abc&n=99")
    page.wait_for_selector("#smp-grid img")
    notes = page.locator("#link-notes textarea").input_value()
    assert "no_such_model.mnist" in notes and "seed" in notes and "grid_size" in notes


def test_a_traverse_link_restores_the_sliders(page, app_url):
    page.add_init_script("delete window.WebAssembly;")  # the server path; tests/test_live.py drives the page's own decoding
    name = sorted(zoo.list_models(), key=lambda n: -zoo.get_spec(n).latent_dim)[0]
    page.goto(app_url + f"?tab=traverse&model={name}&a=4&z=2.5,-1.5")
    page.wait_for_function("() => location.search.includes('label=auto')")  # the app rewrote the URL
    assert 'z=2.5,-1.5' in page.url
    assert page.locator("#trv-slider-0 input[type=number]").input_value() == "2.5"
    assert page.locator("#trv-slider-1 input[type=number]").input_value() == "-1.5"
    before = image_at(page, "#trv-decoded img")
    # drag the first slider to its left end and let go: the server decodes there and the link follows
    slider = page.locator("#trv-slider-0 input[type=range]")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.9, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.9 - 0.1 * i) - 4, y)
    page.mouse.up()
    page.wait_for_function("() => !location.search.includes('z=2.5,') && location.search.includes(',-1.5')")
    page.wait_for_timeout(300)
    assert not np.array_equal(before, image_at(page, "#trv-decoded img"))


def test_keys_move_a_slider_on_the_server_path(page, app_url):
    # No pointer, no release: arrow keys on the range and a number typed in the box settle into the same
    # server decode and link as a drag does (web/live.js gives the focused control its release).
    page.add_init_script("delete window.WebAssembly;")
    name = sorted(zoo.list_models(), key=lambda n: -zoo.get_spec(n).latent_dim)[0]
    page.goto(app_url + f"?tab=traverse&model={name}&a=4&z=2.5,-1.5")
    page.wait_for_function("() => location.search.includes('z=2.5,-1.5') && location.search.includes('label=auto')")
    before, before_src = image_at(page, "#trv-decoded img"), page.locator("#trv-decoded img").first.get_attribute("src")
    box = page.locator("#trv-slider-1 input[type=number]")
    box.fill("0.5")  # typed, still focused: no blur
    page.wait_for_function("() => location.search.includes('z=2.5,0.5')")
    wait_for_image_change(page, "#trv-decoded img", before_src)
    typed, typed_src = image_at(page, "#trv-decoded img"), page.locator("#trv-decoded img").first.get_attribute("src")
    assert not np.array_equal(before, typed)
    page.locator("#trv-slider-0 input[type=range]").focus()
    page.keyboard.press("ArrowLeft")  # one step, then to the far end: a change the picture shows
    page.keyboard.press("Home")
    page.wait_for_function("() => !location.search.includes('z=2.5,') && location.search.includes(',0.5')")
    wait_for_image_change(page, "#trv-decoded img", typed_src)
    assert not np.array_equal(typed, image_at(page, "#trv-decoded img"))


def test_link_notes_are_plain_text(page, app_url):
    """A link is written by whoever sends it: what it carries is shown as text, never as a link or HTML."""
    phishing = '<a href="https://example.com" style="font-size:40px;color:red">Your session expired</a>'
    page.goto(app_url + "?tab=swap_labels&model=cvae_conv_z8.mnist&label=" + quote(phishing)
              + "&b=" + quote("[Click here](https://example.com)") + "&a=" + "9" * 12_000)
    notes = page.locator("#link-notes textarea")
    notes.wait_for()
    text = notes.input_value()
    assert "<a href" in text or "Click here" in text  # shown, as the characters they are
    assert page.locator("#link-notes a").count() == 0 and page.locator("a[href='https://example.com']").count() == 0
    assert len(text) < 1500
    assert page.locator("#link-notes").bounding_box()["height"] < 250


def test_a_link_computes_only_the_tab_it_opens(page, app_url):
    page.goto(app_url + "?tab=sample&n=2&seed=3")
    page.wait_for_selector("#smp-grid img")
    page.wait_for_timeout(1500)  # time for any other tab's run to arrive
    for other in ("#rec-gallery img", "#itp-strip img", "#swp-row img", "#map-left-img img", "#trv-grid img"):
        assert page.locator(other).count() == 0, f"{other} was computed before its tab was shown"
    page.get_by_role("tab", name="Reconstruct").click()
    page.wait_for_selector("#rec-gallery img")  # shown: computed now
    page.get_by_role("tab", name="Sample").click()
    assert page.locator("#smp-grid img").count() == 1


def test_a_click_in_the_margin_of_a_map_changes_nothing(page, app_url):
    page.goto(app_url + "?tab=latent_map")
    image = page.locator("#map-left-img img").first
    image.wait_for(state="visible")
    box = image.bounding_box()
    image.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.45})  # inside: decodes
    page.wait_for_selector("#map-decoded img")
    caption = page.locator("#map-caption").inner_text()
    image.click(position={"x": 2, "y": 2})  # the margin
    page.wait_for_timeout(1500)
    assert page.locator("#map-left-img img").count() == 1 and page.locator("#map-right-img img").count() == 1
    assert page.locator("#map-decoded img").count() == 1 and page.locator("#map-caption").inner_text() == caption
    assert page.get_by_text("Error", exact=True).count() == 0
    # another dataset: the maps, the decoded point and its caption of the first one go
    page.locator("#map-dataset input").click()
    page.get_by_role("option", name="mnist", exact=True).click()
    page.wait_for_function("() => !document.querySelector('#map-decoded img')")
    assert "decoded at" not in page.locator("#map-caption").inner_text()
    assert page.locator("#map-left-img img").count() == 0
