"""Output images as files that are never rewritten while they are served.

Gradio saves an output image as `<cache>/<hash of its bytes>/image.png` and writes that file
again, in place, every time the same picture is answered (`processing_utils.save_pil_to_cache`).
When a class opens the same link, identical answers rewrite the file while another response is
streaming it, and that response ends short ("Too little data for declared Content-Length"; see
bench/upstream_cache_race.md). So the app writes its images itself: PNG bytes into a unique
temporary file next to the final name, then renamed onto it (atomic); a file already there has
the same bytes and is not touched. Gradio serves a file already in its cache as it is.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import Image

from zoo.demo.images import write_once


# zlib level 1, not Pillow's 6: a colour Traverse sweep (596×530) encodes in 58 ms instead of 222 ms for 19% more
# bytes (317 vs 266 KB; measured under load, BENCHMARKS.md). The server's CPU is what a class shares; a few KB are not.
PNG_LEVEL = 1


def png_file(image, cache_dir: str | Path) -> str:
    """`image` (a uint8 array or a PIL image) as a PNG in `cache_dir`, named by its bytes, written atomically."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_LEVEL)
    data = buffer.getvalue()
    path = write_once(Path(cache_dir) / hashlib.sha256(data).hexdigest() / "image.png", data)
    return str(path)


def _as_files(value, cache_dir):
    if isinstance(value, Image.Image) or isinstance(value, np.ndarray) and value.dtype == np.uint8:
        return png_file(value, cache_dir)
    if isinstance(value, tuple):  # a gallery item: (image, caption)
        return (_as_files(value[0], cache_dir), *value[1:])
    if isinstance(value, list):
        return [_as_files(item, cache_dir) for item in value]
    return value


def written_atomically(component):
    """Make an Image or Gallery output its pictures through `png_file` before Gradio sees them."""
    postprocess = component.postprocess

    def atomic(value):
        return postprocess(_as_files(value, component.GRADIO_CACHE))

    component.postprocess = atomic
    return component
