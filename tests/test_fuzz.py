"""Bad input, generated: every endpoint, fed random images (size, mode, dtype, content: empty,
1x1, 4000x4000, NaN-filled, not an image at all), unknown models and out-of-range numbers,
ends in a clear error or a valid answer, never a traceback; the app answers normally after.

Two levels: the endpoint functions of `app.build_demo()` and the UI-free `zoo.demo` called
directly (many examples), and a smaller number through gradio_client against the app served
on 127.0.0.1. The zoo has seeded, untrained weights here (tests/random_zoo.py): what is tested
is how the app behaves, not what the models learnt.

`FUZZ_SCALE=5` multiplies the number of examples; `FUZZ_REPORT=path.json` writes the counts of
cases tried, answers and clear errors (python -m bench uses both).
"""

from __future__ import annotations

import inspect
import io
import itertools
import json
import math
import os
import struct
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

import zoo
from zoo.demo import AUTO, EACH, LINKS, PATHS, SOURCES, ZooView, read_link, tabs
from zoo.demo import images as im

from random_zoo import served_app, shared_random_weights, weights_dir

gr = pytest.importorskip("gradio")

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
MODELS = zoo.list_models()
DATASETS = sorted({zoo.get_spec(n).dataset for n in MODELS})
ENDPOINTS = ["reconstruct", "sample", "interpolate", "swap_labels", "latent_map", "traverse", "tradeoff"]
GENERIC = "has not enabled verbose error reporting"  # what a client sees when the app crashed
INTERNAL = "internal error"  # what a client sees when the app hit a bug (logged with its traceback): never a user's input

COUNTS: dict[str, Counter] = {}  # test -> Counter(answer=..., error=...)


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


def fuzz_settings(n: int):
    return settings(max_examples=examples(n), deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                                           HealthCheck.function_scoped_fixture])


def tally(test: str, outcome: str) -> None:
    COUNTS.setdefault(test, Counter())[outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    if os.environ.get("FUZZ_REPORT"):
        path = Path(os.environ["FUZZ_REPORT"])
        old = json.loads(path.read_text()) if path.is_file() else {}
        old.update({test: dict(c) for test, c in COUNTS.items()})
        path.write_text(json.dumps(old, indent=1))


# ---------------------------------------------------------------------------------------------
# Random images and files


def make_array(h: int, w: int, channels: int | None, dtype: str, content: str, seed: int) -> np.ndarray:
    shape = (h, w) if channels is None else (h, w, channels)
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if content == "zeros":
        a = np.zeros(shape)
    elif content == "ones":
        a = np.ones(shape)
    elif content == "random":
        a = rng.random(shape)
    elif content == "stroke":  # a dark ring on white: what a real upload looks like
        ys, xs = np.indices((h, w))
        r = np.hypot(ys - h / 2, xs - w / 2)
        a = np.where((r > min(h, w) * 0.2) & (r < min(h, w) * 0.3), 0.05, 0.98)
        a = a if channels is None else np.repeat(a[:, :, None], channels, axis=2)
        if channels in (2, 4):
            a[:, :, -1] = 1.0
    else:  # "nan", "inf"
        a = np.full(shape, np.nan if content == "nan" else np.inf)
    if dt.kind == "f":
        return a.astype(dt)
    if dt == np.bool_:
        return np.nan_to_num(a) > 0.5
    info = np.iinfo(dt)
    return (np.nan_to_num(a, posinf=1.0) * min(info.max, 65535)).astype(dt)


SIZES = st.sampled_from([0, 1, 2, 7, 8, 9, 28, 64, 300])
DTYPES = st.sampled_from(["uint8", "uint8", "uint16", "int32", "int8", "float32", "float64", "bool"])
CONTENTS = st.sampled_from(["zeros", "ones", "random", "stroke", "stroke", "nan", "inf"])
arrays = st.builds(make_array, SIZES, SIZES, st.sampled_from([None, 1, 2, 3, 4, 5]), DTYPES, CONTENTS, st.integers(0, 9))

FORMATS = ["PNG", "JPEG", "TIFF", "GIF", "BMP", "WEBP"]
MODES = [None, "L", "1", "P", "RGB", "RGBA", "LA", "I;16", "I", "F", "CMYK"]


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A PNG whose header claims width x height pixels: a decompression bomb, a few bytes long."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def encode(array: np.ndarray, fmt: str, mode: str | None) -> bytes:
    """The array as an image file in `fmt` and `mode`. An array PIL cannot take is made 8-bit
    first; what PIL still cannot write comes out as raw (non-image) bytes."""
    for attempt in (array, np.nan_to_num(np.asarray(array, np.float64), posinf=1.0, neginf=0.0).clip(0, 1) * 255):
        try:
            image = Image.fromarray(attempt if attempt is array else attempt.astype(np.uint8).squeeze())
            if mode and image.mode != mode:
                image = image.convert(mode)
            buffer = io.BytesIO()
            image.save(buffer, format=fmt)
            return buffer.getvalue()
        except Exception:  # PIL cannot write this combination (WebP of 0x0 is a MemoryError)
            continue
    return array.tobytes()


def special_file(kind: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    good = encode(make_array(64, 64, None, "uint8", "stroke", 0), "PNG", None)
    return {
        "empty": b"",
        "text": b"this is not an image\n" * 3,
        "random": rng.bytes(512),
        "png header, garbage": good[:16] + rng.bytes(200),
        "truncated png": good[: len(good) // 2],
        "bomb": bomb_png(),
        "wide": bomb_png(5000, 8),
        "huge header": bomb_png(12000, 12000),
    }[kind]


encoded_files = st.builds(encode, arrays, st.sampled_from(FORMATS), st.sampled_from(MODES))
image_files = st.one_of(
    encoded_files, encoded_files, encoded_files,
    st.builds(special_file, st.sampled_from(["empty", "text", "random", "png header, garbage", "truncated png", "bomb", "wide",
                                             "huge header"]), st.integers(0, 9)),
)


class Files:
    """Writes generated bytes to numbered files under one folder (hypothesis reruns a test many
    times inside one pytest call, so pytest's per-test tmp_path would be shared anyway)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = itertools.count()

    def write(self, data: bytes, suffix: str = ".png") -> str:
        path = self.folder / f"upload-{next(self.count)}{suffix}"
        path.write_bytes(data)
        return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Files:
    return Files(tmp_path_factory.mktemp("fuzz-files"))


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> Path:
    return shared_random_weights(tmp_path_factory)


def ring_png(size: int = 64) -> bytes:
    return encode(make_array(size, size, None, "uint8", "stroke", 0), "PNG", None)


def sketch_of(array: np.ndarray | None) -> dict:
    return {"background": None, "layers": [], "composite": array}


# ---------------------------------------------------------------------------------------------
# Reading images: the first thing every upload and drawing meets


@fuzz_settings(200)
@given(array=arrays)
@example(array=np.zeros((0, 0), np.uint8))
@example(array=np.full((28, 28), np.nan, np.float32))
@example(array=np.zeros((5,), np.uint8))
@example(array=np.zeros((2, 3, 4, 5), np.uint8))
@example(array=np.array(3.0))
def test_reading_any_array_gives_an_image_or_a_clear_error(array):
    for name, read in (("upload", im.read_upload), ("sketch", im.read_sketch)):
        try:
            for dataset in DATASETS:
                x = im.prepare(read(array if name == "upload" else sketch_of(array)), dataset)
                assert x.shape == zoo.get_dataset(dataset).input_shape[1:] and x.dtype == np.float32 and np.isfinite(x).all()
                assert 0.0 <= x.min() and x.max() <= 1.0
            tally("read arrays", "answer")
        except ValueError as exc:
            assert str(exc).strip()
            tally("read arrays", "error")


@fuzz_settings(200)
@given(data=image_files)
def test_reading_any_file_gives_an_image_or_a_clear_error(data, files):
    for source in (data, files.write(data)):
        try:
            x = im.prepare(im.read_upload(source), "mnist")
            assert x.shape == (28, 28) and np.isfinite(x).all()
            tally("read files", "answer")
        except ValueError as exc:
            assert str(exc).strip()
            tally("read files", "error")


@pytest.mark.parametrize("content", ["stroke", "zeros"])
def test_a_4000_by_4000_upload_is_read(files, content):
    path = files.write(encode(make_array(4000, 4000, None, "uint8", content, 0), "PNG", None))
    if content == "zeros":
        with pytest.raises(ValueError, match="blank"):
            im.prepare(im.read_upload(path), "mnist")
    else:
        assert im.prepare(im.read_upload(path), "mnist").shape == (28, 28)


@pytest.mark.parametrize("kind, message", [("bomb", "too large"), ("huge header", "too large"), ("wide", "too large"),
                                           ("empty", "not an image"), ("truncated png", "damaged|truncated|not an image")])
def test_special_files_say_what_is_wrong(files, kind, message):
    with pytest.raises(ValueError, match=message):
        im.read_upload(files.write(special_file(kind, 0)))


# ---------------------------------------------------------------------------------------------
# Every endpoint function of the app, called directly with generated arguments


NAMES = st.sampled_from(MODELS + ["nope.mnist", "", "vae_conv_z2.mnist ", "*", "../weights", "VAE_CONV_Z2.MNIST"])
WEIRD = [None, "", "nope", "NaN", "1e999", [], {}, True, -1]
NUMBERS = st.one_of(
    st.integers(-2**70, 2**70),
    st.integers(-3, 70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1, 100),
    st.sampled_from(WEIRD + [0.5, 2**31, 2**31 - 1, 1e-320]),
    st.text(max_size=4),
)
EDGE_NUMBERS = [math.inf, -math.inf, math.nan, 2**70, -2**70, 1e300, -1, 0.5, "abc", "", None, [], True]
LABELS = st.one_of(st.sampled_from([AUTO, EACH, "", None, "Sneaker", "Bag", "7", "3", 7, 0, 9, -1, 10, 3.5, "Spaceship", float("nan")]),
                   st.text(max_size=6), st.integers())
SOURCE = st.sampled_from(list(SOURCES) + ["", None, "Upload", 3])


def strategy_for(param: str, files: Files) -> st.SearchStrategy:
    uploads = st.one_of(st.none(), image_files.map(files.write), st.just("/no/such/file.png"), arrays, st.just(b""),
                        st.just(42))
    sketches = st.one_of(st.none(), arrays.map(sketch_of), st.just({}), st.just({"composite": "/no/such/file.png"}), arrays,
                         st.just("not a sketch"))
    by_name = {
        "model": NAMES, "left": NAMES, "right": NAMES,
        "models": st.one_of(st.none(), st.lists(NAMES, max_size=3), st.just("vae_conv_z2.mnist"), st.just([None])),
        "dataset": st.sampled_from(DATASETS + ["nope", "", None, "MNIST", 0]),
        "source": SOURCE, "a_source": SOURCE, "b_source": SOURCE,
        "upload": uploads, "a_upload": uploads, "b_upload": uploads,
        "sketch": sketches, "a_sketch": sketches, "b_sketch": sketches,
        "label": LABELS,
        "path": st.sampled_from(list(PATHS) + ["", "cubic", None, "LINEAR", 1]),
        "ellipses": st.one_of(st.booleans(), st.sampled_from([None, "yes", 2, float("nan")])),
        "large": st.one_of(st.booleans(), st.sampled_from([None, "yes", 2, float("nan")])),
        "scale": st.sampled_from(["shared", "fit each", "", None, "zoom", 3]),
        "show": st.one_of(st.none(), st.lists(st.sampled_from(["draws", "path", "posterior", "", "holes", None, 3]), max_size=4),
                          st.just("draws"), st.just(42)),
        "frames_state": st.one_of(st.none(), st.just({}), st.just({"key": "x", "frames": []}),
                                  st.builds(lambda a: {"key": "x", "frames": a}, arrays)),
    }
    return by_name.get(param, NUMBERS)


def valid_arguments(endpoint: str, files: Files) -> dict:
    """A request that works, as the app's defaults make it; the fuzz changes some of its values."""
    ring, sketch = files.write(ring_png()), sketch_of(np.asarray(Image.open(io.BytesIO(ring_png())).convert("RGBA")))
    picker = lambda p: {f"{p}source": "example", f"{p}index": 3, f"{p}upload": ring, f"{p}sketch": sketch}  # noqa: E731
    mnist_cvae = next(n for n in MODELS if zoo.get_spec(n).conditional and zoo.get_spec(n).dataset == "mnist")
    return {
        "reconstruct": dict(dataset="mnist", models=None, **picker(""), label=AUTO),
        "sample": dict(model=mnist_cvae, grid_size=4, seed=0, temperature=1.0, label=EACH),
        "interpolate": dict(model=mnist_cvae, path="linear", steps=8, **picker("a_"), **picker("b_"), t=0.5, frames_state=None),
        "swap_labels": dict(model=mnist_cvae, label=AUTO, **picker("a_"), **picker("b_")),
        "latent_map": dict(dataset="mnist", left="ae_conv_z2.mnist", right="vae_conv_z2.mnist", ellipses=False, scale="shared",
                           show=["draws", "path", "posterior"], a_index=3, b_index=7, seed=0, large=False),
        "tradeoff": dict(dataset="mnist", beta=1.0, large=False),
        "traverse": dict(model=mnist_cvae, label=AUTO, **picker("")),
    }[endpoint]


def fixed_names(endpoint: str, kwargs: dict) -> dict:
    """The picker's index is called `example_index` in single-input tabs."""
    if "index" in kwargs:
        kwargs["example_index"] = kwargs.pop("index")
    return kwargs


def routed(kwargs: dict, changed: set) -> dict:
    """A generated upload or drawing is what the picker uses (its source is set to match), unless
    the source is itself generated: otherwise the example would be used and the image never read."""
    for prefix in ("", "a_", "b_"):
        for kind, source in (("sketch", "draw"), ("upload", "upload")):
            if f"{prefix}{kind}" in changed and f"{prefix}source" not in changed:
                kwargs[f"{prefix}source"] = source
    return kwargs


@pytest.fixture(scope="module")
def app_fns(random_weights):
    """The app's endpoint functions (what Gradio calls after preprocessing), over random weights."""
    import app

    with weights_dir(random_weights):
        demo = app.build_demo()
        yield {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}


def call_endpoint(fn, kwargs: dict, test: str):
    """Call, and sort the outcome: an answer, or a gr.Error with a message. Anything else fails."""
    try:
        out = fn(**kwargs)
    except gr.Error as exc:
        assert str(exc.message).strip() and INTERNAL not in str(exc.message), kwargs
        tally(test, "error")
        return None
    tally(test, "answer")
    return out


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_answers_or_says_what_is_wrong(endpoint, app_fns, files):
    fn = app_fns[endpoint]
    params = list(inspect.signature(fn).parameters)
    valid = fixed_names(endpoint, valid_arguments(endpoint, files))
    assert set(valid) == set(params), (endpoint, params)
    out = call_endpoint(fn, valid, endpoint)
    assert out is not None, "the valid request must work"

    # One to three arguments get generated values, the rest keep their valid ones, so that
    # many cases get past the first check and reach the model.
    changed = st.sets(st.sampled_from(params), min_size=1, max_size=3)
    arguments = changed.flatmap(lambda keys: st.fixed_dictionaries({p: strategy_for(p, files) if p in keys else st.just(valid[p])
                                                                     for p in params}).map(lambda kw: routed(kw, keys)))

    @fuzz_settings(50)
    @given(kwargs=arguments)
    def run(kwargs):
        out = call_endpoint(fn, kwargs, endpoint)
        if out is not None:
            assert len(out) == len(valid_outputs[endpoint]), out
            for value in out:
                if isinstance(value, np.ndarray):
                    assert value.dtype == np.uint8 and value.size, kwargs

    valid_outputs = {endpoint: out}
    for p in params:  # the edge cases, one argument at a time
        if strategy_for(p, files) is NUMBERS:
            for value in EDGE_NUMBERS:
                call_endpoint(fn, {**valid, p: value}, endpoint)
    run()
    assert call_endpoint(fn, valid, endpoint) is not None  # still serving


@fuzz_settings(80)
@given(t=NUMBERS, frames=st.one_of(st.none(), st.just({}), st.builds(lambda a: {"key": "x", "frames": a}, arrays)))
def test_interpolate_frame_lookup(app_fns, t, frames):
    call_endpoint(app_fns["interpolate_frame"], dict(frames_state=frames, t=t), "interpolate_frame")


@fuzz_settings(80)
@given(values=st.lists(NUMBERS, max_size=20), state=st.sampled_from(["valid", None, {}]))
def test_traverse_decode_sliders(app_fns, values, state, files):
    if state == "valid":
        valid = fixed_names("traverse", valid_arguments("traverse", files))
        state = app_fns["traverse"](**valid)[4]
    try:
        decoded = app_fns["traverse_decode"](state, *values)
        assert decoded.dtype == np.uint8
        tally("traverse_decode", "answer")
    except gr.Error as exc:
        assert str(exc.message).strip()
        tally("traverse_decode", "error")


@pytest.fixture(scope="module")
def zd(random_weights):
    with weights_dir(random_weights):
        yield ZooView()


@fuzz_settings(80)
@given(x=NUMBERS, y=NUMBERS, name=NAMES, ellipses=st.booleans())
def test_clicking_anywhere_on_a_latent_map(zd, x, y, name, ellipses):
    try:
        out = tabs.latent_map.decode_point(zd, name, x, y, ellipses)
        assert out.image.dtype == np.uint8 and np.isfinite(out.code).all()
        tally("latent map click", "answer")
    except zoo.InputError as exc:
        assert str(exc).strip()
        tally("latent map click", "error")


QUERY_KEYS = ["tab", "model", "models", "dataset", "a", "b", "n", "seed", "temp", "path", "steps", "t", "label", "left", "right",
              "ellipses", "z", "junk"]


@fuzz_settings(150)
@given(query=st.dictionaries(st.sampled_from(QUERY_KEYS), st.one_of(st.text(max_size=12), NAMES, st.integers().map(str),
                                                                     st.sampled_from(["nan", "inf", "-1", "1e9", "3,4", ",", "mnist"]))))
def test_opening_any_link(zd, query):
    tab, params, notes = read_link(query)
    if tab:
        kept, more = LINKS[tab].clean(zd, params)
        assert set(kept) <= set(params)
    tally("links", "answer")


# ---------------------------------------------------------------------------------------------
# The same through gradio_client, against the app served on 127.0.0.1


@pytest.fixture(scope="module")
def client(random_weights):
    from gradio_client import Client

    with served_app(random_weights) as (url, _):
        yield Client(url, verbose=False, download_files=False)


JSON_NUMBERS = st.one_of(st.integers(-2**40, 2**40), st.floats(allow_nan=False, allow_infinity=False, width=32),
                         st.sampled_from([None, "", "abc", "7", True, -1, 2**31]))


def http_strategy(param: str, files: Files) -> st.SearchStrategy:
    from gradio_client import handle_file

    uploads = st.one_of(st.none(), image_files.map(lambda data: handle_file(files.write(data))))
    sketches = st.one_of(st.none(), image_files.map(lambda data: {"background": None, "layers": [],
                                                                  "composite": handle_file(files.write(data))}))
    if param.endswith("upload"):
        return uploads
    if param.endswith("sketch"):
        return sketches
    if param in ("example_index", "a_index", "b_index", "grid_size", "seed", "temperature", "steps", "t"):
        return JSON_NUMBERS
    if param == "label":
        return st.sampled_from([AUTO, EACH, "", None, "Sneaker", "7", 7, -1, 10, "Spaceship"])
    return strategy_for(param, files).filter(lambda v: not (isinstance(v, float) and not math.isfinite(v)))


UPLOADS = {  # name -> (file bytes, suffix, what must happen: None for an answer, else words of the error)
    "4000x4000": (lambda: encode(make_array(4000, 4000, None, "uint8", "stroke", 0), "PNG", None), ".png", None),
    "1x1": (lambda: encode(make_array(1, 1, None, "uint8", "zeros", 0), "PNG", None), ".png", "too small"),
    "empty file": (lambda: b"", ".png", "not an image"),
    "NaN-filled": (lambda: encode(make_array(32, 32, None, "float32", "nan", 0), "TIFF", None), ".tiff", "floating-point"),
    "text": (lambda: b"not an image at all\n", ".png", "not an image"),
    "bomb": (lambda: bomb_png(), ".png", "too large"),
    "16-bit": (lambda: encode(make_array(32, 32, None, "uint16", "stroke", 0), "PNG", None), ".png", "16"),
}


@pytest.mark.parametrize("upload", list(UPLOADS))
def test_special_uploads_through_the_client(client, files, upload):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    make, suffix, message = UPLOADS[upload]
    path = files.write(make(), suffix)
    if message is None:
        preview, *_ = client.predict(source="upload", upload=handle_file(path), api_name="/reconstruct")
        assert preview
        tally("client uploads", "answer")
    else:
        with pytest.raises(AppError, match=message) as err:
            client.predict(source="upload", upload=handle_file(path), api_name="/reconstruct")
        assert GENERIC not in str(err.value) and INTERNAL not in str(err.value)
        tally("client uploads", "error")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_through_the_client(endpoint, client, files):
    from gradio_client.exceptions import AppError

    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"][f"/{endpoint}"]
    params = [p["parameter_name"] for p in api["parameters"]]
    arguments = st.fixed_dictionaries({}, optional={p: http_strategy(p, files) for p in params}).map(lambda kw: routed(kw, set(kw)))

    def attempt(kwargs):
        try:
            client.predict(api_name=f"/{endpoint}", **kwargs)
            tally(f"client {endpoint}", "answer")
        except AppError as exc:
            assert str(exc).strip() and GENERIC not in str(exc) and INTERNAL not in str(exc), (kwargs, str(exc))
            tally(f"client {endpoint}", "error")

    # The edge cases, one argument at a time. (Image inputs get files or None: a payload that is
    # not a file at all fails Gradio's own validation, before any code of the app runs.)
    for p in params:
        if p.endswith(("upload", "sketch")):
            values = [None]
        else:
            values = ["abc", None, 2**40] if http_strategy(p, files) is JSON_NUMBERS else ["nope", None]
        for value in values:
            attempt({p: value})

    fuzz_settings(8)(given(kwargs=arguments)(attempt))()
    grid, *_ = client.predict(model=MODELS[0], grid_size=2, api_name="/sample")  # and the app still answers
    assert grid
