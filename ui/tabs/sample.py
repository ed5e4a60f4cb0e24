"""Sample tab: draws from the prior, decoded."""

from __future__ import annotations

import gradio as gr

from zoo.demo import EACH
from zoo.demo.tabs import sample as compute

from .. import live
from ..common import PRIVATE, Context, TabUI, as_int, handle_errors, label_choices, skip_all

TITLE = "Sample"
LINK = compute.LINK


def default_model(view) -> str:
    """The richest model (largest latent) by default: its samples and interpolations look best."""
    return sorted(view.models(), key=lambda n: (-view.spec(n).latent_dim, n))[0]


def build(ctx: Context) -> TabUI:
    view = ctx.view
    first = default_model(view)
    with gr.Tab(TITLE, id=LINK.tab) as tab:
        with gr.Row():
            with gr.Column(scale=2):
                model = gr.Dropdown(view.models(), value=first, label="model", elem_id="smp-model")
                size = gr.Slider(1, 16, value=8, step=1, label="grid size (columns)", elem_id="smp-size")
                seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label="seed", elem_id="smp-seed")
                temp = gr.Slider(0, 3, value=1.0, step=0.05, label="temperature (scale of σ: z ~ N(0, T²I))", elem_id="smp-temp")
                label = gr.Dropdown([EACH] + view.spec(first).label_names, value=EACH, allow_custom_value=True,
                                    label="label (conditional models: one row per label, or one label)", elem_id="smp-label")
                button = gr.Button("Sample", variant="primary", elem_id="smp-run")
                info = gr.Markdown(elem_id="smp-info")
            with gr.Column(scale=3):
                grid = gr.Image(label="draws from the prior", format="png", interactive=False, elem_classes="pixelated", elem_id="smp-grid")
                caption = gr.Markdown()
                manifold = gr.Image(label="decoded latent plane (2-D models)", format="png", interactive=False,
                                    visible=view.spec(first).latent_dim == 2, elem_classes="pixelated", elem_id="smp-manifold")
        link = gr.Textbox(visible=False, elem_id="link-sample")
        draws = live.state_box("smp-live")

    @handle_errors
    def sample(model: str, grid_size: int = 8, seed: int = 0, temperature: float = 1.0, label: str = EACH):
        """Draw codes from the prior N(0, T²I) and decode them: what the model generates from nothing.

        Args:
            model: the zoo model to sample (see `vae-zoo list`).
            grid_size: columns of the grid, 1 to 16 (an unconditional model draws grid_size² images).
            seed: the random seed, 0 to 2³¹ - 1: the same seed gives the same draws.
            temperature: T, the scale of the prior's σ, 0 to 3.
            label: conditional models: "each" (one row per label, the same code in each column) or one label.
        Returns:
            the grid of draws, a caption, the decoded latent plane (2-D models) and model notes.
        """
        out = compute.sample(view, model, grid_size, seed, temperature, label)
        return out.grid, out.caption, out.manifold, view.model_info(model)

    inputs = [model, size, seed, temp, label]
    outputs = [grid, caption, manifold, info]

    def write_link(model, n, seed, temp, label):
        return LINK.write(model=model, n=as_int(n), seed=as_int(seed), temp=temp, label=label)

    def show_manifold(name):
        return gr.update(visible=view.spec(name).latent_dim == 2)

    @handle_errors
    def for_page(model, grid_size, seed, temperature, label):
        """The draws at temperature 1 (and the temperature) for live.js, which re-decodes them at any temperature."""
        return dict(compute.prior_draws(view, model, grid_size, seed, label).as_json(model), values=[temperature])

    def then_link(event):
        event.success(write_link, inputs, link, **PRIVATE).success(show_manifold, model, manifold, **PRIVATE).success(
            for_page, inputs, draws, **PRIVATE)

    then_link(button.click(sample, inputs, outputs, api_name="sample"))
    # The temperature re-decodes the same draws in the page at every tick; the link follows when the drag ends.
    live.on_tick(temp, "sample")
    temp.release(write_link, inputs, link, **PRIVATE)
    live.to_page(draws, "sample")
    model.input(lambda n: (label_choices(view, n, EACH), view.model_info(n)), model, [label, info], **PRIVATE)

    restore_outputs = [model, size, seed, temp, label]

    def restore(opened: dict):
        if opened.get("tab") != LINK.tab:
            return skip_all(restore_outputs)
        p = opened["params"]
        chosen = label_choices(view, p["model"], EACH, p.get("label")) if "model" in p else p.get("label", gr.skip())
        return [p.get("model", gr.skip()), p.get("n", gr.skip()), p.get("seed", gr.skip()), p.get("temp", gr.skip()), chosen]

    def on_load(event):
        then_link(event.then(sample, inputs, outputs, api_visibility="private", show_progress="minimal"))

    return TabUI(LINK.tab, tab, link, restore, restore_outputs, on_load)
