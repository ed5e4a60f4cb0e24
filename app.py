"""VAE Zoo: the Gradio app. Layout and wiring only; what the tabs compute lives in `zoo.demo`.

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--device cpu] [--models 'vae*'] [--hub-org ORG]

Runs unchanged as a Hugging Face Space. Every tab is also an API endpoint (`/reconstruct`,
`/sample`, `/interpolate`, `/swap_labels`, `/latent_map`, `/traverse`) usable from
`gradio_client`; each tab's settings are written into the page URL so that a link reproduces
the view.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from PIL import Image

from zoo import get_spec
from zoo.demo import AUTO, EACH, PATHS, Demo, make_link, read_link
from zoo.demo import images as im

MAX_FILE_SIZE = "5mb"  # uploads above this are refused by the server before any handler runs
CONCURRENCY = 2  # model calls at once: a free Space has 2 CPUs
QUEUE_SIZE = 64
GIF_DIR = Path(tempfile.gettempdir()) / "vae-zoo-gifs"
TABS = ("reconstruct", "sample", "interpolate", "swap_labels", "latent_map", "traverse")
SLIDERS = 16  # traverse: one slider per latent dimension, up to this many (most active first)
PRIVATE = dict(api_visibility="private", queue=False, show_progress="hidden")

CSS = """
.pixelated img { image-rendering: pixelated; }
#share-row { align-items: end; }
"""

EXPLAINER = """
An **autoencoder (AE)** squeezes an image through a small code *z* and learns to rebuild it. Each
input becomes a single *point* in latent space, and nothing stops the encoder from scattering
the classes far apart: the latent map has gaps, and decoding a point that no image maps to gives
garbage. Sampling from an AE does not work.

A **variational autoencoder (VAE)** encodes each input to a *region*: the encoder outputs a mean
μ and a standard deviation σ per dimension, and the decoder sees a code drawn from N(μ, σ²)
(the reparameterisation trick, z = μ + σ·ε). The loss adds the KL divergence to the prior,
KL(q(z|x) ‖ N(0, I)) = ½ Σᵢ (σᵢ² + μᵢ² − log σᵢ² − 1), to the reconstruction error. It pulls every
region towards the origin and keeps σ from collapsing, so the regions overlap and pack densely
around 0: the latent space becomes continuous, and you can **sample** from N(0, I) and
**interpolate** between codes. The price is a compromise: reconstructions get a little blurrier.

A **conditional VAE (CVAE)** is also given the label, in the encoder and the decoder. Since the
decoder is told *which* digit or garment to draw, the code only needs to keep the **style**
(slant, thickness, cut). Encode an image's style with its own label, decode it under another
label, and you get the same style in another class: see the **Label swap** tab.

Tabs: **Reconstruct** compares models on one input (with each one's loss parts and posterior);
**Sample** draws from the prior; **Interpolate** walks between two codes; **Label swap** is the
CVAE demonstration; **Latent map** shows the test set in latent space (click to decode a point);
**Traverse** moves one latent dimension at a time. Every tab's settings are in the page URL:
copy it to share exactly what you see.
"""


def errors_as_gr_error(fn):
    """Show a ValueError (a user's mistake, said in words) as a gr.Error; the app keeps serving."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValueError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

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
        return f"{name}: cannot use the value {payload!r} ({type(exc).__name__}: {exc})"

    def checked_preprocess(payload):
        try:
            return preprocess(payload)
        except gr.Error:
            raise
        except Exception as exc:
            raise gr.Error((explain or cannot_use)(exc, payload), print_exception=False) from exc

    component.preprocess = checked_preprocess
    return component


def unreadable_upload(exc, payload) -> str:
    if isinstance(exc, Image.DecompressionBombError):
        return f"the image is too large ({exc}); use one under {im.MAX_SIDE}x{im.MAX_SIDE} pixels"
    # PIL.UnidentifiedImageError, a truncated file, ...
    return f"the upload is not an image that can be read ({type(exc).__name__}: {exc}); use a PNG, JPEG or WebP file"


def image_upload(**kwargs) -> gr.Image:
    """A gr.Image whose unreadable uploads (not an image, a decompression bomb) become a gr.Error that says so."""
    return clear_input_errors(gr.Image(**kwargs), explain=unreadable_upload)


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


def input_picker(zd: Demo, title: str, dataset: str, index: int, key: str) -> Picker:
    with gr.Group():
        source = gr.Radio(["example", "upload", "draw"], value="example", label=f"{title}: test example, upload or drawing",
                          elem_id=f"{key}-source")
        with gr.Column(visible=True) as example_column:
            gallery = gr.Gallery(zd.example_gallery(dataset), columns=10, height=150, allow_preview=False, show_label=False,
                                 object_fit="contain", elem_classes="pixelated", elem_id=f"{key}-examples", format="png")
            example_index = gr.Number(index, precision=0, minimum=0, label="example index (click one above)", elem_id=f"{key}-index")
        upload = image_upload(type="filepath", image_mode=None, sources=["upload", "clipboard"], label="upload (grey image, ≤ 5 MB)",
                             visible=False, height=200, elem_id=f"{key}-upload")
        sketch = gr.Sketchpad(label="draw (dark strokes on white)", visible=False, canvas_size=(280, 280), height=320,
                              brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=18),
                              layers=False, elem_id=f"{key}-sketch")
        preview = gr.Image(label=f"{title} as the model sees it (28×28)", interactive=False, height=120, width=120,
                           format="png", elem_classes="pixelated", elem_id=f"{key}-preview")
    source.change(lambda s: (gr.update(visible=s == "example"), gr.update(visible=s == "upload"), gr.update(visible=s == "draw")),
                  source, [example_column, upload, sketch], **PRIVATE)

    def choose(evt: gr.SelectData):
        return evt.index

    gallery.select(choose, None, example_index, **PRIVATE)
    return Picker(source, example_index, gallery, upload, sketch, preview)


def picker_update(zd: Demo, dataset: str):
    """New gallery content for a picker whose tab switched dataset."""
    return gr.update(value=zd.example_gallery(dataset))


def label_choices(zd: Demo, name: str, extra: str = AUTO) -> gr.update:
    spec = zd.spec(name)
    return gr.update(choices=[extra] + spec.label_names if spec.conditional else [extra], value=extra, interactive=spec.conditional)


def _labels_of(name: str) -> list[str]:
    return get_spec(name).label_names


def default_model(names: list[str]) -> str:
    """The richest model (largest latent) by default: its samples and interpolations look best."""
    return sorted(names, key=lambda n: (-get_spec(n).latent_dim, n))[0]


def build_demo(models: str = "*", device: str | None = None) -> gr.Blocks:
    """The app over the zoo's models matching `models`; built, not launched."""
    zd = Demo(models, device)
    datasets = zd.datasets()
    all_models = zd.models()
    conditional = zd.models(conditional=True)
    first = default_model(all_models)
    first_dataset = get_spec(first).dataset

    with gr.Blocks(title="VAE Zoo", analytics_enabled=False) as demo:
        gr.Markdown("# VAE Zoo\nAE, VAE and CVAE on MNIST and Fashion-MNIST, side by side.")
        with gr.Accordion("What am I looking at? (AE vs VAE vs CVAE)", open=False):
            gr.Markdown(EXPLAINER)
        with gr.Row(elem_id="share-row"):
            share_url = gr.Textbox(label="link to this view", interactive=False, scale=5, elem_id="share-url")
            copy_button = gr.Button("copy link", scale=1, elem_id="copy-link")
        notes = gr.Markdown(elem_id="link-notes")
        current_tab = gr.State("reconstruct")
        links = {tab: gr.Textbox(visible=False, elem_id=f"link-{tab}") for tab in TABS}

        with gr.Tabs(selected="reconstruct") as tabs:
            # ---------------------------------------------------------------------------------
            with gr.Tab("Reconstruct", id="reconstruct") as tab_reconstruct:
                with gr.Row():
                    with gr.Column(scale=2):
                        rec_dataset = gr.Dropdown(datasets, value=first_dataset, label="dataset", elem_id="rec-dataset")
                        rec_models = gr.Dropdown(zd.models(dataset=first_dataset), value=[], multiselect=True, allow_custom_value=True,
                                                 label="models (none chosen: every model of the dataset)",
                                                 elem_id="rec-models")
                        rec_label = gr.Dropdown([AUTO] + zd.label_names(first_dataset), value=AUTO, allow_custom_value=True,
                                                label="label given to conditional models (auto: the example's, else the model's best guess)")
                        rec_in = input_picker(zd, "input", first_dataset, 0, "rec")
                        rec_button = gr.Button("Reconstruct", variant="primary", elem_id="rec-run")
                    with gr.Column(scale=3):
                        rec_gallery = gr.Gallery(label="reconstructions (μ decoded)", columns=4, height=220, object_fit="contain", format="png",
                                                 elem_classes="pixelated", elem_id="rec-gallery")
                        rec_table = gr.Dataframe(headers=["model", "latent", "recon (nats)", "KL (nats)", "total (nats)"],
                                                 interactive=False, label="loss parts, per image", elem_id="rec-table")
                        rec_posterior = gr.Image(label="posterior q(z|x): μ ± σ per dimension", format="png", interactive=False, show_label=False,
                                                 elem_id="rec-posterior")
                        rec_info = gr.Markdown(elem_id="rec-info")

            # ---------------------------------------------------------------------------------
            with gr.Tab("Sample", id="sample") as tab_sample:
                with gr.Row():
                    with gr.Column(scale=2):
                        smp_model = gr.Dropdown(all_models, value=first, label="model", elem_id="smp-model")
                        smp_size = gr.Slider(1, 16, value=8, step=1, label="grid size (columns)", elem_id="smp-size")
                        smp_seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label="seed", elem_id="smp-seed")
                        smp_temp = gr.Slider(0, 3, value=1.0, step=0.05, label="temperature (scale of σ: z ~ N(0, T²I))", elem_id="smp-temp")
                        smp_label = gr.Dropdown([EACH] + _labels_of(first), value=EACH, allow_custom_value=True,
                                                label="label (conditional models: one row per label, or one label)", elem_id="smp-label")
                        smp_button = gr.Button("Sample", variant="primary", elem_id="smp-run")
                        smp_info = gr.Markdown(elem_id="smp-info")
                    with gr.Column(scale=3):
                        smp_grid = gr.Image(label="draws from the prior", format="png", interactive=False, elem_classes="pixelated",
                                            elem_id="smp-grid")
                        smp_caption = gr.Markdown()
                        smp_manifold = gr.Image(label="decoded latent plane (2-D models)", format="png", interactive=False,
                                                visible=get_spec(first).latent_dim == 2,
                                                elem_classes="pixelated", elem_id="smp-manifold")

            # ---------------------------------------------------------------------------------
            with gr.Tab("Interpolate", id="interpolate") as tab_interpolate:
                itp_frames = gr.State(None)
                with gr.Row():
                    with gr.Column(scale=2):
                        itp_model = gr.Dropdown(all_models, value=first, label="model", elem_id="itp-model")
                        itp_path = gr.Radio(list(PATHS), value="linear", label="path through latent space", elem_id="itp-path")
                        itp_steps = gr.Slider(2, 64, value=16, step=1, label="frames", elem_id="itp-steps")
                        with gr.Row():
                            with gr.Column():
                                itp_a = input_picker(zd, "A", get_spec(first).dataset, 0, "itp-a")
                            with gr.Column():
                                itp_b = input_picker(zd, "B", get_spec(first).dataset, 1, "itp-b")
                        itp_button = gr.Button("Interpolate", variant="primary", elem_id="itp-run")
                        itp_info = gr.Markdown(elem_id="itp-info")
                    with gr.Column(scale=3):
                        itp_t = gr.Slider(0, 1, value=0.5, step=1 / 15, label="t (0 = A, 1 = B): a lookup, no model call",
                                          elem_id="itp-t")
                        itp_frame = gr.Image(label="decoded at t", format="png", interactive=False, height=240, width=240,
                                             elem_classes="pixelated", elem_id="itp-frame")
                        itp_strip = gr.Image(label="all frames", format="png", interactive=False, elem_classes="pixelated",
                                             elem_id="itp-strip")
                        gr.Markdown("Frames decode the path between the posterior means of A and B. A conditional model "
                                    "decodes with A's label up to t = 0.5 and with B's after.")
                        itp_gif = gr.Image(label="animated GIF (download button, top right)", type="filepath", format="gif",
                                           interactive=False, height=160, elem_id="itp-gif")

            # ---------------------------------------------------------------------------------
            with gr.Tab("Label swap", id="swap_labels", visible=bool(conditional)) as tab_swap:
                swp_first = conditional[0] if conditional else None
                swp_dataset = get_spec(swp_first).dataset if swp_first else first_dataset
                gr.Markdown("Encode A's **style** with its own label, then decode that style under **every** label. "
                            "Below: A's style with **B's label**. Conditional models only.")
                with gr.Row():
                    with gr.Column(scale=2):
                        swp_model = gr.Dropdown(conditional, value=swp_first, label="conditional model", elem_id="swp-model")
                        swp_label = gr.Dropdown([AUTO] + (_labels_of(swp_first) if swp_first else []), value=AUTO,
                                                allow_custom_value=True, label="A's label (auto: the example's, else the model's best guess)",
                                                elem_id="swp-label")
                        with gr.Row():
                            with gr.Column():
                                swp_a = input_picker(zd, "A (style)", swp_dataset, 0, "swp-a")
                            with gr.Column():
                                swp_b = input_picker(zd, "B (label)", swp_dataset, 7, "swp-b")
                        swp_button = gr.Button("Swap labels", variant="primary", elem_id="swp-run")
                        swp_info = gr.Markdown(elem_id="swp-info")
                    with gr.Column(scale=3):
                        swp_row = gr.Gallery(label="A's style under every label", columns=5, height=320, object_fit="contain", format="png",
                                             elem_classes="pixelated", elem_id="swp-row")
                        swp_swapped = gr.Image(label="A's style, B's label", format="png", interactive=False, height=200, width=200,
                                               elem_classes="pixelated", elem_id="swp-swapped")
                        swp_caption = gr.Markdown(elem_id="swp-caption")
                        gr.Markdown("**More styles**: each row is one input's style (A first, then a test example of every "
                                    "class), decoded under every label.")
                        swp_grid = gr.Image(label="more styles", format="png", interactive=False, show_label=False, elem_id="swp-grid")

            # ---------------------------------------------------------------------------------
            with gr.Tab("Latent map", id="latent_map") as tab_map:
                two_d = zd.models(latent_dim=2, dataset=first_dataset) or zd.models(dataset=first_dataset)
                gr.Markdown("The shipped test examples encoded (μ), coloured by class; the dashed circles are the prior's "
                            "1σ and 2σ. Codes larger than 2-D are projected on their first two principal components. "
                            "**Click a map** to decode the code there.")
                with gr.Row():
                    map_dataset = gr.Dropdown(datasets, value=first_dataset, label="dataset", elem_id="map-dataset")
                    map_left = gr.Dropdown(zd.models(dataset=first_dataset), value=two_d[0], label="left model", allow_custom_value=True,
                                           elem_id="map-left")
                    map_right = gr.Dropdown(zd.models(dataset=first_dataset), value=two_d[min(1, len(two_d) - 1)],
                                            label="right model", allow_custom_value=True, elem_id="map-right")
                    map_ellipses = gr.Checkbox(False, label="σ ellipses", elem_id="map-ellipses")
                    map_button = gr.Button("Draw maps", variant="primary", elem_id="map-run")
                with gr.Row():
                    map_left_img = gr.Image(label="left map", format="png", interactive=False, show_label=False, elem_id="map-left-img")
                    map_right_img = gr.Image(label="right map", format="png", interactive=False, show_label=False,
                                             elem_id="map-right-img")
                    with gr.Column():
                        map_decoded = gr.Image(label="decoded at the clicked point", format="png", interactive=False,
                                               height=200, width=200, elem_classes="pixelated", elem_id="map-decoded")
                        map_caption = gr.Markdown(elem_id="map-caption")
                map_info = gr.Markdown(elem_id="map-info")

            # ---------------------------------------------------------------------------------
            with gr.Tab("Traverse", id="traverse") as tab_traverse:
                trv_state = gr.State(None)
                pending_z = gr.State(None)  # slider values from a link, applied after the first encoding
                with gr.Row():
                    with gr.Column(scale=2):
                        trv_model = gr.Dropdown(all_models, value=first, label="model", elem_id="trv-model")
                        trv_label = gr.Dropdown([AUTO] + _labels_of(first), value=AUTO, allow_custom_value=True,
                                                label="label (conditional models)", elem_id="trv-label")
                        trv_in = input_picker(zd, "input", get_spec(first).dataset, 0, "trv")
                        trv_button = gr.Button("Encode", variant="primary", elem_id="trv-run")
                        trv_info = gr.Markdown(elem_id="trv-info")
                    with gr.Column(scale=3):
                        with gr.Row():
                            trv_decoded = gr.Image(label="decoded from the sliders", format="png", interactive=False,
                                                   height=200, width=200, elem_classes="pixelated", elem_id="trv-decoded")
                            trv_grid = gr.Image(label="each row: one dimension swept across its range (most active first)",
                                                format="png", interactive=False, elem_classes="pixelated", elem_id="trv-grid")
                        gr.Markdown("Sliders: latent dimensions ordered by their mean KL over the test examples "
                                    "(by the variance of μ for models without σ); active units first.")
                        with gr.Accordion("the dimensions as data (the endpoint's JSON output)", open=False):
                            trv_dims = gr.JSON(label="dimensions, most active first (μ of this input, slider range)", elem_id="trv-dims")
                        with gr.Row():
                            trv_sliders = [gr.Slider(-4, 4, value=0, step=0.05, label=f"dimension {i}", visible=i < 4,
                                                     elem_id=f"trv-slider-{i}", min_width=200) for i in range(SLIDERS)]

        # =====================================================================================
        # Handlers: pick the input, call zoo.demo, unpack into the outputs.

        @errors_as_gr_error
        def reconstruct(dataset, models, source, example_index, upload=None, sketch=None, label=AUTO):
            picked = zd.pick(dataset, source, example_index, upload, sketch)
            models = [models] if isinstance(models, str) else models
            if models and not isinstance(models, (list, tuple)):
                raise ValueError(f"models must be a list of model names, got {models!r}")
            names = list(models or zd.models(dataset=dataset))
            out = zd.reconstruct(names, picked, label)
            info = "\n\n".join(zd.model_info(n) for n in names)
            return im.enlarge(picked.image), out["gallery"], out["table"], out["posterior"], info

        @errors_as_gr_error
        def sample(model, grid_size, seed, temperature, label):
            out = zd.sample(model, grid_size, seed, temperature, label)
            return out["grid"], out["caption"], out["manifold"], zd.model_info(model)

        @errors_as_gr_error
        def interpolate(model, path, steps, a_source, a_index, a_upload=None, a_sketch=None, b_source="example", b_index=1,
                        b_upload=None, b_sketch=None, t=0.5, frames_state=None):
            dataset = zd.spec(model).dataset
            a = zd.pick(dataset, a_source, a_index, a_upload, a_sketch)
            b = zd.pick(dataset, b_source, b_index, b_upload, b_sketch)
            out = zd.interpolate(model, a, b, path, steps, cached=frames_state, gif_folder=GIF_DIR)
            return (im.enlarge(a.image), im.enlarge(b.image), zd.frame_at(out["frames"], t), out["strip"], out["gif"],
                    out["state"], zd.model_info(model))

        @errors_as_gr_error
        def interpolate_frame(frames_state, t):
            return zd.frame_at(None if not frames_state else frames_state["frames"], t)

        @errors_as_gr_error
        def swap_labels(model, label, a_source, a_index, a_upload=None, a_sketch=None, b_source="example", b_index=7,
                        b_upload=None, b_sketch=None):
            dataset = zd.spec(model).dataset
            a = zd.pick(dataset, a_source, a_index, a_upload, a_sketch)
            b = zd.pick(dataset, b_source, b_index, b_upload, b_sketch)
            out = zd.swap_labels(model, a, label, b)
            return im.enlarge(a.image), im.enlarge(b.image), out["row"], out["swapped"], out["grid"], out["caption"], zd.model_info(model)

        @errors_as_gr_error
        def latent_map(dataset, left, right, ellipses):
            for name in (left, right):
                if zd.spec(name).dataset != dataset:
                    raise ValueError(f"{name} is trained on {zd.spec(name).dataset}, not {dataset}: choose models of one dataset")
            info = zd.model_info(left) + "\n\n" + zd.model_info(right)
            return zd.latent_map(left, ellipses).image, zd.latent_map(right, ellipses).image, info

        def map_click(name, ellipses, evt: gr.SelectData):
            try:
                out = zd.decode_map_point(name, *evt.index, ellipses=ellipses)
            except ValueError as exc:
                raise gr.Error(str(exc), print_exception=False) from exc
            return out["image"], out["caption"], zd.latent_map(name, ellipses, marker=out["point"]).image

        @errors_as_gr_error
        def traverse(model, label, source, example_index, upload=None, sketch=None):
            picked = zd.pick(zd.spec(model).dataset, source, example_index, upload, sketch)
            out = zd.traverse(model, picked, label)
            return im.enlarge(picked.image), out["decoded"], out["grid"], out["sliders"], out["state"], zd.model_info(model)

        def set_sliders(dimensions, state, pending):
            """One slider per dimension in `dimensions` (the rest hidden), at μ, or at the values a link gave."""
            values = [round(d["value"], 2) for d in dimensions or []]
            if pending:
                values[: len(pending)] = [float(v) for v in pending[: len(values)]]
            updates = [gr.update(visible=True, label=d["label"], minimum=d["minimum"], maximum=d["maximum"], value=v)
                       for d, v in zip(dimensions or [], values)]
            updates += [gr.update(visible=False)] * (SLIDERS - len(updates))
            decoded = zd.traverse_decode(state, values) if pending and state else gr.skip()
            return (*updates, decoded, None)

        @errors_as_gr_error
        def traverse_decode(state, *values):
            return zd.traverse_decode(state, values)

        # Links: each tab's settings, as a query string.
        def link_of(tab, picker_sources=(), **params):
            if any(s != "example" for s in picker_sources):
                for key in ("a", "b"):
                    params.pop(key, None)
            return make_link(tab, **params)

        # =====================================================================================
        # Wiring

        rec_inputs = [rec_dataset, rec_models, *rec_in.inputs, rec_label]
        rec_outputs = [rec_in.preview, rec_gallery, rec_table, rec_posterior, rec_info]
        rec_link = (lambda dataset, models, source, index, label: link_of(
            "reconstruct", [source], dataset=dataset, models=models, a=_int(index), label=label),
            [rec_dataset, rec_models, rec_in.source, rec_in.index, rec_label])
        rec_button.click(reconstruct, rec_inputs, rec_outputs, api_name="reconstruct").success(
            *rec_link, links["reconstruct"], **PRIVATE)

        smp_inputs = [smp_model, smp_size, smp_seed, smp_temp, smp_label]
        smp_outputs = [smp_grid, smp_caption, smp_manifold, smp_info]
        smp_link = (lambda model, n, seed, temp, label: make_link("sample", model=model, n=_int(n), seed=_int(seed), temp=temp, label=label),
                    smp_inputs)
        smp_manifold_shown = (lambda model: gr.update(visible=get_spec(model).latent_dim == 2), smp_model, smp_manifold)
        smp_button.click(sample, smp_inputs, smp_outputs, api_name="sample").success(*smp_link, links["sample"], **PRIVATE).success(
            *smp_manifold_shown, **PRIVATE)

        itp_inputs = [itp_model, itp_path, itp_steps, *itp_a.inputs, *itp_b.inputs, itp_t]
        itp_outputs = [itp_a.preview, itp_b.preview, itp_frame, itp_strip, itp_gif, itp_frames, itp_info]
        itp_steps.change(lambda n: gr.update(step=1 / (max(2, int(n)) - 1)), itp_steps, itp_t, **PRIVATE)
        itp_link = (lambda model, path, steps, a_src, a, b_src, b, t: link_of(
            "interpolate", [a_src, b_src], model=model, path=path, steps=_int(steps), a=_int(a), b=_int(b), t=round(float(t), 3)),
            [itp_model, itp_path, itp_steps, itp_a.source, itp_a.index, itp_b.source, itp_b.index, itp_t])
        itp_button.click(interpolate, itp_inputs + [itp_frames], itp_outputs, api_name="interpolate").success(
            *itp_link, links["interpolate"], **PRIVATE)
        itp_t.input(interpolate_frame, [itp_frames, itp_t], itp_frame, api_name="interpolate_frame", api_visibility="undocumented",
                    queue=False, show_progress="hidden", trigger_mode="always_last").success(*itp_link, links["interpolate"], **PRIVATE)

        swp_inputs = [swp_model, swp_label, *swp_a.inputs, *swp_b.inputs]
        swp_outputs = [swp_a.preview, swp_b.preview, swp_row, swp_swapped, swp_grid, swp_caption, swp_info]
        swp_link = (lambda model, label, a_src, a, b_src, b: link_of(
            "swap_labels", [a_src, b_src], model=model, label=label, a=_int(a), b=_int(b)),
            [swp_model, swp_label, swp_a.source, swp_a.index, swp_b.source, swp_b.index])
        swp_button.click(swap_labels, swp_inputs, swp_outputs, api_name="swap_labels").success(*swp_link, links["swap_labels"], **PRIVATE)

        map_inputs = [map_dataset, map_left, map_right, map_ellipses]
        map_outputs = [map_left_img, map_right_img, map_info]
        map_link = (lambda dataset, left, right, ellipses: make_link("latent_map", dataset=dataset, left=left, right=right,
                                                                      ellipses=ellipses), map_inputs)
        map_button.click(latent_map, map_inputs, map_outputs, api_name="latent_map").success(*map_link, links["latent_map"], **PRIVATE)
        map_left_img.select(map_click, [map_left, map_ellipses], [map_decoded, map_caption, map_left_img], api_visibility="private")
        map_right_img.select(map_click, [map_right, map_ellipses], [map_decoded, map_caption, map_right_img], api_visibility="private")

        trv_inputs = [trv_model, trv_label, *trv_in.inputs]
        trv_outputs = [trv_in.preview, trv_decoded, trv_grid, trv_dims, trv_state, trv_info]
        trv_apply = (set_sliders, [trv_dims, trv_state, pending_z], [*trv_sliders, trv_decoded, pending_z])
        trv_link = (lambda model, label, src, a, *z: link_of("traverse", [src], model=model, label=label, a=_int(a),
                                                               z=[v for v in z]),
                    [trv_model, trv_label, trv_in.source, trv_in.index, *trv_sliders])
        trv_button.click(traverse, trv_inputs, trv_outputs, api_name="traverse").success(*trv_apply, **PRIVATE).success(
            *trv_link, links["traverse"], **PRIVATE)
        for slider in trv_sliders:
            slider.input(traverse_decode, [trv_state, *trv_sliders], trv_decoded, api_name="traverse_decode",
                           api_visibility="undocumented", queue=False, show_progress="hidden", trigger_mode="always_last"
                           ).success(*trv_link, links["traverse"], **PRIVATE)

        # A model or dataset change refreshes what depends on it (choices, examples, info).
        def on_rec_dataset(dataset):
            names = zd.models(dataset=dataset)
            return (gr.update(choices=names, value=[]), gr.update(choices=[AUTO] + zd.label_names(dataset), value=AUTO),
                    picker_update(zd, dataset))

        rec_dataset.input(on_rec_dataset, rec_dataset, [rec_models, rec_label, rec_in.gallery], **PRIVATE)

        def on_model(name, extra):
            spec = zd.spec(name)
            return label_choices(zd, name, extra), picker_update(zd, spec.dataset), zd.model_info(name)

        smp_model.input(lambda n: (label_choices(zd, n, EACH), zd.model_info(n)), smp_model, [smp_label, smp_info], **PRIVATE)
        itp_model.input(lambda n: (picker_update(zd, zd.spec(n).dataset), picker_update(zd, zd.spec(n).dataset), zd.model_info(n)),
                        itp_model, [itp_a.gallery, itp_b.gallery, itp_info], **PRIVATE)
        swp_model.input(lambda n: (*on_model(n, AUTO), picker_update(zd, zd.spec(n).dataset)), swp_model,
                        [swp_label, swp_a.gallery, swp_info, swp_b.gallery], **PRIVATE)
        trv_model.input(lambda n: on_model(n, AUTO), trv_model, [trv_label, trv_in.gallery, trv_info], **PRIVATE)

        def on_map_dataset(dataset):
            names = zd.models(dataset=dataset)
            pair = zd.models(latent_dim=2, dataset=dataset) or names
            return (gr.update(choices=names, value=pair[0]), gr.update(choices=names, value=pair[min(1, len(pair) - 1)]))

        map_dataset.input(on_map_dataset, map_dataset, [map_left, map_right], **PRIVATE)

        # The link of the tab on screen goes into the address bar and the share box.
        for tab, tab_block in zip(TABS, (tab_reconstruct, tab_sample, tab_interpolate, tab_swap, tab_map, tab_traverse)):
            tab_block.select(lambda t=tab: t, None, current_tab, **PRIVATE).then(
                lambda t, *ls: ls[TABS.index(t)], [current_tab, *links.values()], share_url, **PRIVATE)
        for link in links.values():
            link.change(lambda t, *ls: ls[TABS.index(t)], [current_tab, *links.values()], share_url, **PRIVATE)
        share_url.change(None, share_url, share_url, js=_JS_SET_URL, api_visibility="private")
        copy_button.click(None, None, None, js=_JS_COPY, api_visibility="private")

        # Opening a link: restore the settings it names, then run every tab once.
        setting_components = {
            "reconstruct": dict(dataset=rec_dataset, models=rec_models, a=rec_in.index, label=rec_label),
            "sample": dict(model=smp_model, n=smp_size, seed=smp_seed, temp=smp_temp, label=smp_label),
            "interpolate": dict(model=itp_model, path=itp_path, steps=itp_steps, a=itp_a.index, b=itp_b.index, t=itp_t),
            "swap_labels": dict(model=swp_model, label=swp_label, a=swp_a.index, b=swp_b.index),
            "latent_map": dict(dataset=map_dataset, left=map_left, right=map_right, ellipses=map_ellipses),
            "traverse": dict(model=trv_model, label=trv_label, a=trv_in.index),
        }
        restorable = [c for tab in TABS for c in setting_components[tab].values()]
        galleries = [rec_in.gallery, itp_a.gallery, itp_b.gallery, swp_a.gallery, swp_b.gallery, trv_in.gallery]

        def restore(request: gr.Request):
            tab, params, problems = read_link(dict(request.query_params) if request else {})
            updates = {c: gr.skip() for c in restorable}
            gallery_updates = [gr.skip()] * len(galleries)
            if tab:
                params, more = zd.clean_link(tab, params)
                problems += more
                for key, value in params.items():
                    if key in setting_components[tab]:
                        updates[setting_components[tab][key]] = value
                dataset = zd.spec(params["model"]).dataset if "model" in params else params.get("dataset")
                if tab == "reconstruct" and dataset in datasets:
                    updates[rec_models] = gr.update(choices=zd.models(dataset=dataset), value=params.get("models", []))
                    updates[rec_label] = gr.update(choices=[AUTO] + zd.label_names(dataset), value=params.get("label", AUTO))
                    gallery_updates[0] = picker_update(zd, dataset)
                if tab == "latent_map" and dataset in datasets:
                    names = zd.models(dataset=dataset)
                    pair = zd.models(latent_dim=2, dataset=dataset) or names
                    updates[map_left] = gr.update(choices=names, value=params.get("left", pair[0]))
                    updates[map_right] = gr.update(choices=names, value=params.get("right", pair[min(1, len(pair) - 1)]))
                if "model" in params and dataset and tab in ("sample", "swap_labels", "traverse", "interpolate"):
                    spec = zd.spec(params["model"])
                    extra = EACH if tab == "sample" else AUTO
                    label_box = {"sample": smp_label, "swap_labels": swp_label, "traverse": trv_label}.get(tab)
                    if label_box is not None:
                        updates[label_box] = gr.update(choices=[extra] + spec.label_names, value=params.get("label", extra))
                    slots = {"interpolate": [1, 2], "swap_labels": [3, 4], "traverse": [5]}.get(tab, [])
                    for slot in slots:
                        gallery_updates[slot] = picker_update(zd, dataset)
            note = ("Some of the link was ignored: " + "; ".join(problems)) if problems else ""
            return [gr.update(selected=tab) if tab else gr.skip(), tab or "reconstruct", note, params.get("z") if tab == "traverse" else None,
                    *[updates[c] for c in restorable], *gallery_updates]

        loaded = demo.load(restore, None, [tabs, current_tab, notes, pending_z, *restorable, *galleries], api_visibility="private")
        runs = [("reconstruct", reconstruct, rec_inputs, rec_outputs, rec_link),
                ("sample", sample, smp_inputs, smp_outputs, smp_link),
                ("interpolate", interpolate, itp_inputs + [itp_frames], itp_outputs, itp_link),
                ("latent_map", latent_map, map_inputs, map_outputs, map_link),
                ("traverse", traverse, trv_inputs, trv_outputs, trv_link)]
        if conditional:
            runs.append(("swap_labels", swap_labels, swp_inputs, swp_outputs, swp_link))
        for tab, fn, inputs, outputs, link in runs:
            done = loaded.then(fn, inputs, outputs, api_visibility="private", show_progress="minimal")
            if tab == "traverse":  # a traverse link also carries the slider values: applied once the code is encoded
                done = done.success(*trv_apply, **PRIVATE)
            if tab == "sample":
                done = done.success(*smp_manifold_shown, **PRIVATE)
            done.success(*link, links[tab], **PRIVATE)
    for block in demo.blocks.values():
        if isinstance(block, gr.components.Component) and not isinstance(block, gr.Image):  # images: see image_upload
            clear_input_errors(block)
    return demo


_JS_SET_URL = """(q) => {
  if (q === null || q === undefined) return q;
  const query = q.startsWith('http') ? q.split('?')[1] || '' : q;
  const url = location.origin + location.pathname + (query ? '?' + query : '');
  if (location.href !== url) history.replaceState(null, '', url);
  return url;
}"""

_JS_COPY = """() => {
  const url = location.href;
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
  return [];
}"""


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False, **kwargs):
    """Queue (2 model calls at a time, 64 waiting) and serve, with the upload size limit."""
    import torch

    # One thread per request: the models are tiny, and on a shared 2-CPU machine two requests on
    # one core each beat one request whose two threads wait for each other (1 ms vs 30 ms a decode).
    torch.set_num_threads(1)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_FILE_SIZE, css=CSS,
                       allowed_paths=[str(GIF_DIR)], **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="VAE Zoo: the Gradio app over the zoo's models.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to listen on (0.0.0.0 for everyone on the network; default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)), help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: best available, or ZOO_DEVICE)")
    parser.add_argument("--models", default="*", help="serve only the models matching this fnmatch pattern, e.g. '*mnist'")
    parser.add_argument("--hub-org", help="load every model from ORG/<model-name> on the Hugging Face Hub "
                                          "(default: ZOO_HUB_ORG, else the bundled weights)")
    args = parser.parse_args(argv)
    try:
        if args.hub_org:
            import zoo.hub

            zoo.hub.set_hub_org(args.hub_org)
        if args.device:
            from zoo import resolve_device

            resolve_device(args.device)
        demo = build_demo(args.models, args.device)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    launch(demo, args.host, args.port, args.share)
    return 0


if __name__ == "__main__":
    sys.exit(main())
