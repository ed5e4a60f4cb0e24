"""Traverse tab: encode an input, then one slider per latent dimension (most active first)."""

from __future__ import annotations

import dataclasses

import gradio as gr

from zoo.demo import AUTO
from zoo.demo import images as im
from zoo.demo.tabs import traverse as compute

from .. import live
from ..common import (PRIVATE, Context, TabUI, as_int, example_only, gallery_of, handle_errors, input_picker, label_choices,
                      skip_all)
from .sample import default_model

TITLE = "Traverse"
LINK = compute.LINK


def build(ctx: Context) -> TabUI:
    view = ctx.view
    first = default_model(view)
    with gr.Tab(TITLE, id=LINK.tab) as tab:
        state = gr.State(None)
        pending = gr.State(None)  # slider values from a link, applied once the input is encoded
        with gr.Row():
            with gr.Column(scale=2):
                model = gr.Dropdown(view.models(), value=first, label="model", elem_id="trv-model")
                label = gr.Dropdown([AUTO] + view.spec(first).label_names, value=AUTO, allow_custom_value=True,
                                    label="label (conditional models)", elem_id="trv-label")
                picker = input_picker(view, "input", view.spec(first).dataset, 0, "trv")
                button = gr.Button("Encode", variant="primary", elem_id="trv-run")
                info = gr.Markdown(elem_id="trv-info")
            with gr.Column(scale=3):
                with gr.Row():
                    decoded = gr.Image(label="decoded from the sliders", format="png", interactive=False, height=200, width=200,
                                       elem_classes="pixelated", elem_id="trv-decoded")
                    grid = gr.Image(label="each row: one dimension swept across its range (most active first)", format="png",
                                    interactive=False, elem_classes="pixelated", elem_id="trv-grid")
                gr.Markdown("Sliders: latent dimensions ordered by their mean KL over the test examples "
                            "(by the variance of μ for models without σ); active units first. On a dataset with known "
                            "factors (shapes), a slider also names the factor its dimension carries most (by mutual "
                            "information over the test split, measured by `vae-zoo eval`).")
                with gr.Accordion("the dimensions as data (the endpoint's JSON output)", open=False):
                    dims = gr.JSON(label="dimensions, most active first (μ of this input, slider range)", elem_id="trv-dims")
                with gr.Row():
                    # A fixed set of sliders, shown as needed: their ids and events are what links, the
                    # browser and the `traverse_decode` endpoint address (see the note in the README).
                    sliders = [gr.Slider(-4, 4, value=0, step=0.05, label=f"dimension {i}", visible=i < 4, elem_id=f"trv-slider-{i}",
                                         min_width=200) for i in range(compute.MAX_DIMS)]
        link = gr.Textbox(visible=False, elem_id="link-traverse")
        code = live.state_box("trv-live")

    @handle_errors
    def traverse(model: str, label: str = AUTO, source: str = "example", example_index: int = 0, upload=None, sketch=None):
        """Encode one image and sweep its latent dimensions, most active (highest mean KL) first: what each dimension controls.

        Args:
            model: the zoo model whose latent space to traverse.
            label: conditional models: the label to encode and decode with; "auto" uses the example's, else the best guess.
            source: "example", "upload" or "draw".
            example_index: which test example, when source is "example".
            upload: an image file, when source is "upload".
            sketch: a drawing, when source is "draw".
        Returns:
            the input as the model sees it, its code decoded, a grid sweeping the most active dimensions,
            the dimensions as JSON (μ of this input, slider range), model notes.
        """
        picked = view.pick(view.spec(model).dataset, source, example_index, upload, sketch)
        out = compute.traverse(view, model, picked, label)
        return (im.enlarge(picked.image), out.decoded, out.grid, [dataclasses.asdict(s) for s in out.sliders], out.state,
                view.model_info(model))

    @handle_errors
    def traverse_decode(state, *values):
        """Decode the traversed code with the sliders' values."""
        return compute.traverse_decode(view, state, values)

    @handle_errors
    def set_sliders(dimensions, state, pending):
        """One slider per dimension (the rest hidden), at μ, or at the values a link gave."""
        dimensions = dimensions if isinstance(dimensions, list) else []
        values = [round(d["value"], 2) for d in dimensions]
        if pending:
            values[: len(pending)] = [float(v) for v in pending[: len(values)]]
        updates = [gr.update(visible=True, label=d["label"], minimum=d["minimum"], maximum=d["maximum"], value=v)
                   for d, v in zip(dimensions, values)]
        updates += [gr.update(visible=False)] * (compute.MAX_DIMS - len(updates))
        shown = compute.traverse_decode(view, state, values) if pending and state else gr.skip()
        return (*updates, shown, None)

    def write_link(model, label, source, index, state, *values):
        shown = len(state["dims"]) if isinstance(state, dict) and "dims" in state else 0
        return LINK.write(**example_only(dict(model=model, label=label, a=as_int(index), z=list(values[:shown])), source))

    inputs = [model, label, *picker.inputs]
    outputs = [picker.preview, decoded, grid, dims, state, info]
    apply = (set_sliders, [dims, state, pending], [*sliders, decoded, pending])
    link_args = (write_link, [model, label, picker.source, picker.index, state, *sliders], link)

    def for_page(state, *values):
        """The encoded code and its ordered dimensions (and the sliders' values) for live.js."""
        if not isinstance(state, dict) or "mean" not in state:
            return None
        return dict(name=state["name"], label=state.get("label"), mean=[float(v) for v in state["mean"]], dims=state["dims"],
                    values=list(values))

    def then_sliders(event):
        event.success(*apply, **PRIVATE).success(*link_args, **PRIVATE).success(for_page, [state, *sliders], code, **PRIVATE)

    then_sliders(button.click(traverse, inputs, outputs, api_name="traverse"))
    for slider in sliders:
        # Each tick is decoded in the page; the server's decode and the link follow when the drag ends.
        live.on_tick(slider, "traverse", sliders)
        slider.release(traverse_decode, [state, *sliders], decoded, api_name="traverse_decode", api_visibility="undocumented",
                       queue=False, show_progress="hidden", trigger_mode="always_last").success(*link_args, **PRIVATE)
    live.to_page(code, "traverse")

    def on_model(name):
        return label_choices(view, name), gallery_of(view, view.spec(name).dataset), view.model_info(name)

    model.input(on_model, model, [label, picker.gallery, info], **PRIVATE)

    restore_outputs = [model, label, picker.index, picker.gallery, pending]

    def restore(opened: dict):
        if opened.get("tab") != LINK.tab:
            return skip_all(restore_outputs)
        p = opened["params"]
        if "model" not in p:
            return [gr.skip(), p.get("label", gr.skip()), p.get("a", gr.skip()), gr.skip(), p.get("z")]
        return [p["model"], label_choices(view, p["model"], value=p.get("label")), p.get("a", gr.skip()),
                gallery_of(view, view.spec(p["model"]).dataset), p.get("z")]

    def on_load(event):
        then_sliders(event.then(traverse, inputs, outputs, api_visibility="private", show_progress="minimal"))

    return TabUI(LINK.tab, tab, link, restore, restore_outputs, on_load)
