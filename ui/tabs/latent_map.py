"""Latent map tab: two models' codes of the test examples side by side; click a map to decode there."""

from __future__ import annotations

import gradio as gr

from zoo.demo.tabs import latent_map as compute

from .. import live
from ..common import PRIVATE, Context, TabUI, handle_errors, skip_all

TITLE = "Latent map"
LINK = compute.LINK


def build(ctx: Context) -> TabUI:
    view = ctx.view
    first = view.datasets()[0]
    left_name, right_name = compute.default_pair(view, first)
    with gr.Tab(TITLE, id=LINK.tab) as tab:
        gr.Markdown("The shipped test examples encoded (μ), coloured by class; the dashed circles are the prior's "
                    "1σ and 2σ. Codes larger than 2-D are projected on their first two principal components. "
                    "**Click a map** to decode the code there.")
        with gr.Row():
            dataset = gr.Dropdown(view.datasets(), value=first, label="dataset", elem_id="map-dataset")
            left = gr.Dropdown(view.models(dataset=first), value=left_name, label="left model", allow_custom_value=True,
                               elem_id="map-left")
            right = gr.Dropdown(view.models(dataset=first), value=right_name, label="right model", allow_custom_value=True,
                                elem_id="map-right")
            ellipses = gr.Checkbox(False, label="σ ellipses", elem_id="map-ellipses")
            button = gr.Button("Draw maps", variant="primary", elem_id="map-run")
        with gr.Row():
            left_img = gr.Image(label="left map", format="png", interactive=False, show_label=False, elem_id="map-left-img")
            right_img = gr.Image(label="right map", format="png", interactive=False, show_label=False, elem_id="map-right-img")
            with gr.Column():
                decoded = gr.Image(label="decoded at the clicked point", format="png", interactive=False, height=200, width=200,
                                   elem_classes="pixelated", elem_id="map-decoded")
                caption = gr.Markdown(elem_id="map-caption")
        # Draw and watch (web/live.js): each stroke is encoded in the page by both models; their reconstructions
        # and a dot on each map follow the pen. Without the in-page runtime, use Reconstruct's sketchpad.
        gr.HTML("<b>Draw and watch</b>: draw on the black pad; each stroke is encoded by both models in your browser, "
                "their reconstructions appear beside it and the code moves as a red dot on each map.", elem_id="map-draw")
        info = gr.Markdown(elem_id="map-info")
        link = gr.Textbox(visible=False, elem_id="link-latent_map")
        projections = live.state_box("map-live")

    @handle_errors
    def latent_map(dataset: str, left: str, right: str, ellipses: bool = False):
        """Two models' latent spaces side by side: the test examples' codes coloured by class (an AE's have gaps; a VAE's pack around the origin).

        Args:
            dataset: the dataset whose test examples to encode.
            left: the model drawn on the left (a model of `dataset`).
            right: the model drawn on the right (a model of `dataset`).
            ellipses: also draw each code's σ ellipse (variational models).
        Returns:
            the left map, the right map, model notes.
        """
        compute.check_pair(view, dataset, (left, right))
        maps = [compute.latent_map(view, name, ellipses).image for name in (left, right)]
        return *maps, view.model_info(left) + "\n\n" + view.model_info(right)

    @handle_errors
    def decode_click(name, ellipses, evt: gr.SelectData):
        out = compute.decode_point(view, name, *evt.index, ellipses=ellipses)
        return out.image, out.caption, out.marked

    inputs = [dataset, left, right, ellipses]
    link_args = (lambda *values: LINK.write(**dict(zip(("dataset", "left", "right", "ellipses"), values))), inputs, link)
    @handle_errors
    def for_page(dataset, left, right, ellipses):
        """How each map goes from a pixel to a code, for live.js (pointer moves decode in the page)."""
        return {side: compute.page_projection(view, name, ellipses) for side, name in (("left", left), ("right", right))}

    live_args = (for_page, inputs, projections)
    button.click(latent_map, inputs, [left_img, right_img, info], api_name="latent_map").success(*link_args, **PRIVATE).success(
        *live_args, **PRIVATE)
    live.to_page(projections, "latent_map")
    left_img.select(decode_click, [left, ellipses], [decoded, caption, left_img], api_visibility="private")
    right_img.select(decode_click, [right, ellipses], [decoded, caption, right_img], api_visibility="private")

    def pair_for(dataset, chosen_left=None, chosen_right=None):
        names = view.models(dataset=dataset)
        pair = compute.default_pair(view, dataset)
        return gr.update(choices=names, value=chosen_left or pair[0]), gr.update(choices=names, value=chosen_right or pair[1])

    dataset.input(pair_for, dataset, [left, right], **PRIVATE)

    restore_outputs = [dataset, left, right, ellipses]

    def restore(opened: dict):
        if opened.get("tab") != LINK.tab:
            return skip_all(restore_outputs)
        p = opened["params"]
        if "dataset" not in p:
            return [gr.skip(), p.get("left", gr.skip()), p.get("right", gr.skip()), p.get("ellipses", gr.skip())]
        return [p["dataset"], *pair_for(p["dataset"], p.get("left"), p.get("right")), p.get("ellipses", gr.skip())]

    def on_load(event):
        event.then(latent_map, inputs, [left_img, right_img, info], api_visibility="private",
                   show_progress="minimal").success(*link_args, **PRIVATE).success(*live_args, **PRIVATE)

    return TabUI(LINK.tab, tab, link, restore, restore_outputs, on_load)
