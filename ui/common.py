"""What the tabs share on the Gradio side: the error edge, the input picker, the link plumbing.

A tab module (`ui/tabs/<tab>.py`) has `TITLE`, `LINK` (its `zoo.demo` link schema) and
`build(ctx) -> TabUI`: it lays out its components, wires its events (each with an `api_name`),
and says how a link restores it and how it runs once on page load.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import gradio as gr
from PIL import Image

from zoo import InputError
from zoo.demo import AUTO, SOURCES, ZooView
from zoo.demo import images as im
from zoo.demo.links import short_repr

from .guard import scrub_paths

log = logging.getLogger("vae-zoo.app")

MAX_MESSAGE = 400  # characters of an error message a user sees: never a megabyte of their own input back


def public(message: str) -> str:
    """An error message fit to show: no server path (cut to its last part), at most MAX_MESSAGE characters."""
    text = scrub_paths(message)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


PRIVATE = dict(api_visibility="private", queue=False, show_progress="hidden")
INTERNAL_ERROR = "internal error: the server logged what went wrong; try other settings, or report it"


@dataclass(frozen=True)
class Context:
    """What every tab is built with: the zoo as the app serves it, and where files go."""

    view: ZooView
    presentation: gr.Checkbox | None = None  # the page's presentation-mode switch: tabs that draw plots draw them larger

    @property
    def gif_dir(self) -> Path:
        """Where interpolation GIFs go: the view's own scratch folder (per process, never shared)."""
        return self.view.scratch / "gifs"


def presenting(ctx: Context) -> list:
    """The presentation switch as an event input ([] when the page has none)."""
    return [ctx.presentation] if ctx.presentation is not None else []


def redraw_if_shown(fn, outputs: int):
    """`fn(*inputs)` for the presentation switch, whose last input is one of the tab's pictures: a tab
    that has not drawn yet (no picture) stays as it is, so switching computes no tab nobody opened."""

    def redraw(*values):
        *inputs, picture = values
        return fn(*inputs) if picture is not None else tuple(gr.skip() for _ in range(outputs))

    return redraw


@dataclass
class TabUI:
    """What `app.py` needs from a built tab.

    `link` is a hidden textbox holding the tab's link (the share box shows the one on screen);
    `restore(link)` answers a link read on page load with updates for `restore_outputs` (all
    `gr.skip()` when the link is another tab's); `on_load(event)` chains the tab's run after it.
    """

    id: str
    tab: gr.Tab
    link: gr.Textbox
    restore: Callable[[dict], list]
    restore_outputs: list
    on_load: Callable = field(repr=False, default=None)


def handle_errors(fn):
    """The app's error edge: an `InputError` (the user's input) becomes a gr.Error with its
    message; anything else is a bug, logged with its traceback, and the user sees a short note."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except InputError as exc:
            raise gr.Error(public(str(exc)), print_exception=False) from exc
        except Exception as exc:
            log.exception("internal error in %s", fn.__name__)
            raise gr.Error(INTERNAL_ERROR, print_exception=False) from exc

    return wrapper


def clear_input_errors(component, explain=None):
    """A value the component cannot take (through the API: a word for a number, a list for a
    slider, a file that is not an image) becomes a gr.Error that says so, instead of a generic
    processing error. `explain(exc, payload)` words the message; by default it names the input.
    (Wrapping the instance's preprocess, not subclassing: Gradio writes a .pyi stub next to every
    module that subclasses a component.)"""
    preprocess = component.preprocess

    def cannot_use(exc, payload):
        name = component.label or component.elem_id or type(component).__name__.lower()
        return f"{name}: cannot use the value {short_repr(payload)} ({type(exc).__name__}: {short_repr(str(exc))})"

    def checked_preprocess(payload):
        try:
            return preprocess(payload)
        except gr.Error as exc:  # Gradio's own (a value not among a dropdown's choices, ...) may quote the whole value
            raise gr.Error(public(exc.message), print_exception=False) from exc
        except Exception as exc:
            raise gr.Error(public((explain or cannot_use)(exc, payload)), print_exception=False) from exc

    component.preprocess = checked_preprocess
    return component


def unreadable_upload(exc, payload) -> str:
    if isinstance(exc, Image.DecompressionBombError):
        return f"the image is too large ({exc}); use one under {im.MAX_SIDE}x{im.MAX_SIDE} pixels"
    # PIL.UnidentifiedImageError, a truncated file, ...
    return f"the upload is not an image that can be read ({type(exc).__name__}: {short_repr(str(exc))}); use a PNG, JPEG or WebP file"


@dataclass
class Picker:
    """One input: a test example, an upload or a drawing, chosen by `source`."""

    source: gr.Radio
    index: gr.Number
    gallery: gr.Gallery
    upload: gr.Image
    sketch: gr.Sketchpad
    preview: gr.Image

    @property
    def inputs(self) -> list:
        return [self.source, self.index, self.upload, self.sketch]


def input_picker(view: ZooView, title: str, dataset: str, index: int, key: str) -> Picker:
    """The example gallery, upload box and sketchpad for one input, and a preview of what the model sees."""
    c, h, w = view.input_shape(dataset)
    with gr.Group():
        source = gr.Radio(list(SOURCES), value="example", label=f"{title}: test example, upload or drawing", elem_id=f"{key}-source")
        with gr.Column(visible=True) as example_column:
            gallery = gr.Gallery(view.example_gallery(dataset), columns=10, height=150, allow_preview=False, show_label=False,
                                 object_fit="contain", elem_classes="pixelated", elem_id=f"{key}-examples", format="png")
            example_index = gr.Number(index, precision=0, minimum=0, label="example index (click one above)", elem_id=f"{key}-index")
        upload = clear_input_errors(gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                             label="upload (grey image, ≤ 5 MB)", visible=False, height=200,
                                             elem_id=f"{key}-upload"), explain=unreadable_upload)
        sketch = gr.Sketchpad(label="draw (dark strokes on white)", visible=False, canvas_size=(280, 280), height=320,
                              brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=18),
                              layers=False, elem_id=f"{key}-sketch")
        preview = gr.Image(label=f"{title} as the model sees it ({h}×{w})", interactive=False, height=200, width=160,
                           format="png", elem_classes="pixelated", elem_id=f"{key}-preview")  # 200: the label sits above
    source.change(lambda s: (gr.update(visible=s == "example"), gr.update(visible=s == "upload"), gr.update(visible=s == "draw")),
                  source, [example_column, upload, sketch], **PRIVATE)

    def choose(evt: gr.SelectData):
        return evt.index

    gallery.select(choose, None, example_index, **PRIVATE)
    return Picker(source, example_index, gallery, upload, sketch, preview)


def picker_pair(view: ZooView, dataset: str, titles: tuple[str, str], indices: tuple[int, int], key: str) -> tuple[Picker, Picker]:
    """Inputs A and B side by side (interpolation, label swap), with ids `<key>-a-*` and `<key>-b-*`."""
    pickers = []
    with gr.Row():
        for title, index, side in zip(titles, indices, "ab"):
            with gr.Column():
                pickers.append(input_picker(view, title, dataset, index, f"{key}-{side}"))
    return pickers[0], pickers[1]


def gallery_of(view: ZooView, dataset: str):
    """New content for a picker's gallery when its tab switches dataset."""
    return gr.update(value=view.example_gallery(dataset))


def label_choices(view: ZooView, name: str, extra: str = AUTO, value=None):
    """The label dropdown for model `name`: `extra` ("auto" or "each") and, if conditional, its labels."""
    spec = view.spec(name)
    return gr.update(choices=[extra] + spec.label_names if spec.conditional else [extra], value=value or extra,
                     interactive=spec.conditional)


def example_only(params: dict, *sources) -> dict:
    """A link keeps example indices only while the inputs are examples: uploads cannot travel in it."""
    if any(s != "example" for s in sources):
        return {k: v for k, v in params.items() if k not in ("a", "b")}
    return params


def as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def skip_all(outputs: list) -> list:
    return [gr.skip()] * len(outputs)
