"""Images in and out of the app: reading uploads and sketches strictly, preparing them like the
datasets, and drawing the tiles the tabs show (grids, strips, the label-swap grid, GIFs). The plots
(latent maps, posteriors) are drawn with matplotlib in `plots.py`.

Everything here is numpy and PIL; nothing imports torch or a UI library. Images the models read
are float32 (H, W) in [0, 1] of their dataset's input shape, light strokes on a dark background, as in
MNIST; a colour dataset's (shapes_rgb) are (H, W, 3), channels last, and every drawing function here
takes either. Uploads and drawings are read grey (`as_input` paints them for a colour dataset).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import math
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from ..datasets import get_dataset
from ..errors import InputError

MIN_SIDE = 8  # px; smaller uploads hold no drawable shape
MAX_SIDE = 4096  # px; larger ones are refused before they are decoded
MAX_PIXELS = 16_000_000
COLOUR_TOLERANCE = 12 / 255  # channels differing by less than this count as grey
SCALE = 4  # every tile is shown 4x larger, nearest-neighbour, so pixels stay crisp


# ---------------------------------------------------------------------------------------------
# Reading user images


def read_upload(source) -> np.ndarray:
    """An uploaded image (path, bytes, PIL image or array) -> grey float32 (H, W) in [0, 1].

    Refuses, with an InputError that says why: files that are not images, images smaller than
    8x8 or larger than 4096x4096, colour images, images with transparency, and 16-bit or
    floating-point images.
    """
    if source is None:
        raise InputError("no image: upload one, draw one, or pick an example")
    if isinstance(source, np.ndarray):
        return _grey_from_array(source)
    if isinstance(source, Image.Image):
        return _grey_from_pil(source)
    if not isinstance(source, (bytes, bytearray, str, Path)):
        raise InputError(f"the upload is a {type(source).__name__}, not an image file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # far beyond MAX_PIXELS anyway
            image = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else Path(source))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise InputError(f"the image is too large ({exc}); use one under {MAX_SIDE}x{MAX_SIDE} pixels") from exc
        raise InputError("the file is not an image that can be read (use a PNG, JPEG or WebP file)") from exc
    _check_size(*image.size)
    try:
        image.load()
        image = ImageOps.exif_transpose(image)  # phone photos: upright, as the user saw them
    except (OSError, ValueError) as exc:
        raise InputError(f"the image file is damaged or truncated ({exc})") from exc
    return _grey_from_pil(image)


def _check_size(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise InputError(f"the image is {width}x{height} pixels, too small: it needs at least {MIN_SIDE}x{MIN_SIDE}")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise InputError(f"the image is {width}x{height} pixels, too large: use one under {MAX_SIDE}x{MAX_SIDE}")


def _grey_from_pil(image: Image.Image) -> np.ndarray:
    _check_size(*image.size)
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        raise InputError(f"the image has 16- or 32-bit pixels (mode {mode}); save it as an 8-bit greyscale PNG or JPEG")
    if mode == "F":
        raise InputError("the image has floating-point pixels (mode F); save it as an 8-bit greyscale PNG or JPEG")
    if mode in ("1", "L"):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    if mode == "P":
        image = image.convert("RGBA")
    elif mode not in ("RGB", "RGBA", "LA"):
        image = image.convert("RGB")  # CMYK, YCbCr, ...: judged by their RGB rendering
    return _grey_from_array(np.asarray(image))


def _grey_from_array(array: np.ndarray) -> np.ndarray:
    """uint8 (H, W), (H, W, 3) or (H, W, 4) arrays, or floats in [0, 1] -> grey float32 (H, W)."""
    array = np.asarray(array)
    if array.dtype == np.uint16 or array.dtype == np.int32:
        raise InputError("the image has 16-bit pixels; save it as an 8-bit greyscale PNG or JPEG")
    if array.dtype == np.uint8:
        pixels = array.astype(np.float32) / 255.0
    elif np.issubdtype(array.dtype, np.floating):
        if array.size and (np.isnan(array).any() or array.min() < 0 or array.max() > 1):
            raise InputError("float images must have values in [0, 1]")
        pixels = array.astype(np.float32)
    else:
        raise InputError(f"unsupported pixel type {array.dtype}; use 8-bit images")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 2:
        _check_size(pixels.shape[1], pixels.shape[0])
        return pixels
    if pixels.ndim != 3 or pixels.shape[2] not in (2, 3, 4):
        raise InputError(f"expected a greyscale or RGB image, got an array of shape {array.shape}")
    _check_size(pixels.shape[1], pixels.shape[0])
    if pixels.shape[2] in (2, 4):
        alpha = pixels[:, :, -1]
        if alpha.min() < 1.0 - 1e-6:
            raise InputError("the image has transparent pixels (an alpha channel): flatten it onto a plain "
                             "background and save it without transparency")
        pixels = pixels[:, :, :-1]
    if pixels.shape[2] == 1:
        return pixels[:, :, 0]
    spread = pixels.max(axis=2) - pixels.min(axis=2)
    if np.mean(spread > COLOUR_TOLERANCE) > 0.01:
        raise InputError("the image is in colour; the models read greyscale images: "
                         "save it as greyscale (or draw it in black and white)")
    return pixels.mean(axis=2)


def read_sketch(sketch) -> np.ndarray:
    """A sketchpad value (a dict with 'composite', or an image) -> grey float32 (H, W) in [0, 1].

    Strokes may be any colour on a white or transparent canvas; an empty canvas is an InputError.
    """
    composite = sketch.get("composite") if isinstance(sketch, dict) else sketch
    if composite is None:
        raise InputError("the sketch is empty: draw a digit or a piece of clothing first")
    if isinstance(composite, (str, Path)):
        try:
            composite = Image.open(composite)
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            raise InputError(f"the sketch is not an image that can be read ({type(exc).__name__})") from exc
    if isinstance(composite, Image.Image):
        composite = np.asarray(composite.convert("RGBA"))
    array = np.asarray(composite)
    if array.ndim not in (2, 3) or (array.ndim == 3 and not 1 <= array.shape[2] <= 4) or array.dtype.kind not in "buif":
        raise InputError(f"the sketch is not an image: expected (H, W) or (H, W, 1 to 4) numbers, got {array.dtype} {array.shape}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InputError("the sketch has pixels that are not numbers (NaN or infinity)")
    if array.dtype != np.uint8:
        array = (np.clip(array, 0, 1) * 255).astype(np.uint8) if np.issubdtype(array.dtype, np.floating) else array.astype(np.uint8)
    if array.ndim == 2:
        grey = array.astype(np.float32) / 255.0
    else:
        rgb = array[:, :, :3].astype(np.float32) / 255.0 if array.shape[2] >= 3 else np.repeat(array[:, :, :1], 3, 2) / 255.0
        alpha = array[:, :, -1:].astype(np.float32) / 255.0 if array.shape[2] in (2, 4) else 1.0
        grey = (rgb * alpha + (1.0 - alpha)).mean(axis=2)  # flattened onto white
    if grey.size == 0 or grey.max() - grey.min() < 0.05:
        raise InputError("the sketch is empty: draw a digit or a piece of clothing first")
    if min(grey.shape) < MIN_SIDE:
        raise InputError(f"the sketch is {grey.shape[1]}x{grey.shape[0]} pixels, too small")
    return grey.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Preparing an image like the dataset


def prepare(grey: np.ndarray, dataset: str) -> np.ndarray:
    """Grey (H, W) in [0, 1] -> (H, W) float32 of `dataset`'s input shape, framed like its images.

    Light backgrounds are inverted (the models saw light strokes on black), the content is
    cropped to its bounding box, scaled into the dataset's box keeping its aspect ratio, and
    centred (MNIST: by centre of mass, as LeCun et al. did).
    """
    x = np.asarray(grey, dtype=np.float32)
    border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        x, background = 1.0 - x, 1.0 - background
    ink = x.max() - background
    if ink < 0.1:
        raise InputError("the image is blank: no strokes or object stand out from the background")
    x = np.clip((x - background) / ink, 0.0, 1.0)  # background 0, strongest stroke 1
    rows, cols = np.nonzero(x > 0.15)
    x = x[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]  # (h, w) bounding box
    info = get_dataset(dataset)
    box, centring = info.framing.box, info.framing.centring
    side_h, side_w = info.input_shape[1:]
    h, w = x.shape
    scale = box / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(x, mode="F").resize((new_w, new_h), resample), dtype=np.float32)
    out = np.zeros((side_h, side_w), dtype=np.float32)
    top, left = (side_h - new_h) // 2, (side_w - new_w) // 2
    out[top: top + new_h, left: left + new_w] = small
    if centring == "mass" and out.sum() > 0:
        ys, xs = np.indices(out.shape)
        dy = int(round((side_h - 1) / 2 - (ys * out).sum() / out.sum()))
        dx = int(round((side_w - 1) / 2 - (xs * out).sum() / out.sum()))
        dy = int(np.clip(dy, -top, side_h - top - new_h))  # never push content off the canvas
        dx = int(np.clip(dx, -left, side_w - left - new_w))
        out = np.roll(out, (dy, dx), axis=(0, 1))
    return np.clip(out, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Drawing


def as_input(grey: np.ndarray, dataset: str) -> np.ndarray:
    """A prepared grey (H, W) image as `dataset`'s models read it: itself, or for a colour dataset the
    same grey in every channel (H, W, 3), a white object on black."""
    channels = get_dataset(dataset).input_shape[0]
    return grey if channels == 1 else np.repeat(np.asarray(grey, dtype=np.float32)[:, :, None], channels, axis=2)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(np.nan_to_num(image, nan=0.0), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def enlarge(image: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """(H, W) or (H, W, 3) float in [0, 1] -> (H*scale, W*scale[, 3]) uint8, nearest-neighbour."""
    return np.repeat(np.repeat(to_uint8(image), scale, axis=0), scale, axis=1)


def grid(images: np.ndarray, columns: int, pad: int = 2, scale: int = SCALE) -> np.ndarray:
    """(N, H, W) or (N, H, W, 3) float -> one uint8 image of the tiles in rows of `columns`, on a grey gutter."""
    n = len(images)
    rows = max(1, math.ceil(n / columns))
    tile = images.shape[2] * scale
    colour = images.shape[3:]  # () or (3,)
    out = np.full((rows * (tile + pad) + pad, columns * (tile + pad) + pad, *colour), 96, dtype=np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[pad + r * (tile + pad): pad + r * (tile + pad) + tile, pad + c * (tile + pad): pad + c * (tile + pad) + tile] = enlarge(image, scale)
    return out


@functools.lru_cache(maxsize=8)
def font(size: int = 12) -> ImageFont.ImageFont:
    """DejaVu Sans (it has μ and σ), from matplotlib's copy or the system's; else Pillow's default."""
    spec = importlib.util.find_spec("matplotlib")
    candidates = [Path(p) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf" for p in (spec.submodule_search_locations or [])] if spec else []
    candidates.append(Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    for path in candidates:
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType
        return ImageFont.load_default()


def analogy_grid(originals: np.ndarray, decoded: np.ndarray, label_names: list[str], scale: int = 2, pad: int = 3) -> np.ndarray:
    """The CVAE picture: row r is originals[r] (left, after a gap) then its style decoded under
    every label. originals: (R, H, W[, 3]); decoded: (R, K, H, W[, 3]). Label names head the columns. RGB uint8."""
    f = font(10)
    rows, k = decoded.shape[:2]
    tile = decoded.shape[3] * scale
    header = 16
    gap = 10
    width = pad + (tile + pad) * (k + 1) + gap
    image = Image.new("RGB", (width, header + pad + rows * (tile + pad)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((pad, 2), "input", fill=(90, 90, 90), font=f)
    for c, name in enumerate(label_names):
        x = pad + (tile + pad) * (c + 1) + gap
        text = name if draw.textlength(name, font=f) <= tile + pad else name[: max(1, (tile + pad) // 6)] + "…"
        draw.text((x + (tile - draw.textlength(text, font=f)) / 2, 2), text, fill="black", font=f)
    for r in range(rows):
        y = header + pad + r * (tile + pad)
        image.paste(Image.fromarray(enlarge(originals[r], scale)).convert("RGB"), (pad, y))
        for c in range(k):
            image.paste(Image.fromarray(enlarge(decoded[r, c], scale)).convert("RGB"), (pad + (tile + pad) * (c + 1) + gap, y))
    return np.asarray(image)


def gif_bytes(frames: np.ndarray, duration_ms: int = 80, scale: int = SCALE) -> bytes:
    """(T, H, W[, 3]) float frames -> an animated GIF that plays forward then back, looping."""
    tiles = [Image.fromarray(enlarge(f, scale)) for f in frames]
    if tiles and tiles[0].mode == "RGB":
        # One palette for every frame, from all of them at once (a fast octree), each frame then mapped onto it:
        # Pillow would otherwise quantize every frame of the loop on its own, 5 ms each with median cut.
        strip = Image.new("RGB", (tiles[0].width, tiles[0].height * len(tiles)))
        for i, tile in enumerate(tiles):
            strip.paste(tile, (0, i * tile.height))
        palette = strip.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        tiles = [tile.quantize(palette=palette, dither=Image.Dither.NONE) for tile in tiles]
    tiles = tiles + tiles[-2:0:-1]
    buffer = io.BytesIO()
    tiles[0].save(buffer, format="GIF", save_all=True, append_images=tiles[1:], duration=duration_ms, loop=0)
    return buffer.getvalue()


def save_gif(frames: np.ndarray, folder: Path, duration_ms: int = 80, scale: int = 3) -> Path:
    """Write `gif_bytes(frames)` into `folder` under a name derived from its content; returns the path."""
    import hashlib

    data = gif_bytes(frames, duration_ms, scale)
    return write_once(Path(folder) / f"interpolation-{hashlib.sha1(data).hexdigest()[:16]}.gif", data)


def write_once(path: Path, data: bytes) -> Path:
    """Write `data` at `path` unless a file is already there (same name, same bytes): into a
    temporary file of its own, then renamed onto `path`, so that concurrent writers never share a
    file and a reader never sees a partial one. Returns `path`."""
    import os
    import tempfile

    path = Path(path)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(staging, path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
    return path
