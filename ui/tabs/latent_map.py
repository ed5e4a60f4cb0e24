"""Latent map tab: two models' codes of the test examples side by side, on one scale; click a map to decode there."""

from __future__ import annotations

import gradio as gr

from zoo.demo.tabs import latent_map as compute

from .. import live
from ..common import PRIVATE, Context, TabUI, as_int, handle_errors, presenting, redraw_if_shown, skip_all

TITLE = "Latent map"
LINK = compute.LINK
SHOW = {"draws": "prior draws (the Sample tab's, seed below)", "path": "path A → B (the Interpolate tab's)",
        "posterior": "q(z|x) of A: σ ellipses and draws"}


def build(ctx: Context) -> TabUI:
    view = ctx.view
    first = view.datasets()[0]
    left_name, right_name = compute.default_pair(view, first)
    with gr.Tab(TITLE, id=LINK.tab) as tab:
        gr.Markdown("The shipped test examples encoded (μ), coloured by class, over the prior N(0, I) (grey; dashed: "
                    "1σ and 2σ). On **one scale**, an AE's points spread far beyond the prior while a VAE's regions pack "
                    "around the origin. Codes larger than 2-D are projected on their first two principal components. "
                    "**Click a map** to decode the code there.")
        with gr.Row():
            dataset = gr.Dropdown(view.datasets(), value=first, label="dataset", elem_id="map-dataset")
            left = gr.Dropdown(view.models(dataset=first), value=left_name, label="left model", allow_custom_value=True,
                               elem_id="map-left")
            right = gr.Dropdown(view.models(dataset=first), value=right_name, label="right model", allow_custom_value=True,
                                elem_id="map-right")
            scale = gr.Radio(list(compute.SCALES), value="shared", label="scale", elem_id="map-scale")
        with gr.Row():
            ellipses = gr.Checkbox(False, label="σ ellipses of every example", elem_id="map-ellipses")
            show = gr.CheckboxGroup([(text, key) for key, text in SHOW.items()], value=[], label="show on the maps",
                                    elem_id="map-show")
            a = gr.Number(0, precision=0, minimum=0, label="example A", elem_id="map-a")
            b = gr.Number(1, precision=0, minimum=0, label="example B", elem_id="map-b")
            seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label="seed of the draws", elem_id="map-seed")
            button = gr.Button("Draw maps", variant="primary", elem_id="map-run")
        with gr.Row():
            left_img = gr.Image(label="left map", format="png", interactive=False, show_label=False, min_width=440,
                                elem_id="map-left-img")
            right_img = gr.Image(label="right map", format="png", interactive=False, show_label=False, min_width=440,
                                 elem_id="map-right-img")
            with gr.Column(scale=0, min_width=220):
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

    options = compute.options_from

    @handle_errors
    def latent_map(dataset: str, left: str, right: str, ellipses: bool = False, scale: str = "shared",
                   show: list[str] | None = None, a_index: int = 0, b_index: int = 1, seed: int = 0, large: bool = False):
        """Two models' latent spaces side by side on one scale: the test examples' codes coloured by class (an AE's spread far beyond the prior; a VAE's pack around the origin).

        Args:
            dataset: the dataset whose test examples to encode.
            left: the model drawn on the left (a model of `dataset`).
            right: the model drawn on the right (a model of `dataset`).
            ellipses: also draw each code's σ ellipse (variational models).
            scale: "shared" (both maps on the wider one's scale) or "fit each".
            show: any of "draws" (64 draws from the prior, seed `seed`), "path" (the linear path from example A to B), "posterior" (example A's q(z|x): σ ellipses and 200 draws).
            a_index: example A (the posterior's input, the path's start).
            b_index: example B (the path's end).
            seed: the seed of the prior draws, as in the Sample tab.
            large: draw larger maps (presentation mode).
        Returns:
            the left map, the right map, model notes.
        """
        maps = compute.maps(view, dataset, (left, right), scale, options(ellipses, show, a_index, b_index, seed, large))
        return maps[0].image, maps[1].image, view.model_info(left) + "\n\n" + view.model_info(right)

    inputs = [dataset, left, right, ellipses, scale, show, a, b, seed, *presenting(ctx)]

    def clicker(side):
        @handle_errors
        def decode_click(dataset, left, right, ellipses, scale, show, a, b, seed, large=False, evt: gr.SelectData = None):
            chosen = options(ellipses, show, a, b, seed, large)
            if not compute.on_map(view, dataset, (left, right), side, *evt.index, scale=scale, options=chosen):
                return gr.skip(), gr.skip(), gr.skip()  # the margin: nothing to decode, nothing changes
            out = compute.click(view, dataset, (left, right), side, *evt.index, scale=scale, options=chosen)
            return out.image, out.caption, out.marked
        return decode_click

    def write_link(dataset, left, right, ellipses, scale, show, a, b, seed, *_):
        show = set(show or [])
        return LINK.write(dataset=dataset, left=left, right=right, ellipses=ellipses, scale=scale, draws="draws" in show,
                          path="path" in show, posterior="posterior" in show, a=as_int(a), b=as_int(b), seed=as_int(seed))

    @handle_errors
    def for_page(dataset, left, right, ellipses, scale, show, a, b, seed, large=False):
        """How each map goes from a pixel to a code, for live.js (pointer moves decode in the page)."""
        chosen = options(ellipses, show, a, b, seed, large)
        return dict(zip(("left", "right"), compute.page_projections(view, dataset, (left, right), scale, chosen)))

    link_args = (write_link, inputs, link)
    live_args = (for_page, inputs, projections)
    button.click(latent_map, inputs, [left_img, right_img, info], api_name="latent_map").success(*link_args, **PRIVATE).success(
        *live_args, **PRIVATE)
    live.to_page(projections, "latent_map")
    left_img.select(clicker(0), inputs, [decoded, caption, left_img], api_visibility="private")
    right_img.select(clicker(1), inputs, [decoded, caption, right_img], api_visibility="private")
    if ctx.presentation is not None:  # redrawn larger (or back), if the tab has drawn its maps yet; the page's projections follow
        ctx.presentation.change(redraw_if_shown(latent_map, 3), [*inputs, left_img], [left_img, right_img, info], **PRIVATE).success(
            redraw_if_shown(for_page, 1), [*inputs, left_img], projections, **PRIVATE)

    def pair_for(dataset, chosen_left=None, chosen_right=None):
        names = view.models(dataset=dataset)
        pair = compute.default_pair(view, dataset)
        return gr.update(choices=names, value=chosen_left or pair[0]), gr.update(choices=names, value=chosen_right or pair[1])

    def switch_dataset(dataset):  # the maps, decoded point and notes of the other dataset go, errors with them
        return *pair_for(dataset), None, None, None, "", ""

    dataset.input(switch_dataset, dataset, [left, right, left_img, right_img, decoded, caption, info], **PRIVATE).success(
        *live_args, **PRIVATE)

    restore_outputs = [dataset, left, right, ellipses, scale, show, a, b, seed]

    def restore(opened: dict):
        if opened.get("tab") != LINK.tab:
            return skip_all(restore_outputs)
        p = opened["params"]
        shown = [key for key in SHOW if p.get(key)]
        rest = [p.get("ellipses", gr.skip()), p.get("scale", gr.skip()), shown if shown else gr.skip(),
                p.get("a", gr.skip()), p.get("b", gr.skip()), p.get("seed", gr.skip())]
        if "dataset" not in p:
            return [gr.skip(), p.get("left", gr.skip()), p.get("right", gr.skip()), *rest]
        return [p["dataset"], *pair_for(p["dataset"], p.get("left"), p.get("right")), *rest]

    def on_load(event):
        event.then(latent_map, inputs, [left_img, right_img, info], api_visibility="private",
                   show_progress="minimal").success(*link_args, **PRIVATE).success(*live_args, **PRIVATE)

    return TabUI(LINK.tab, tab, link, restore, restore_outputs, on_load)
