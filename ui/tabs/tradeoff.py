"""Trade-off tab: a β slider through 2-D models trained with recon + β·KL, from the AE (β = 0) to β = 8."""

from __future__ import annotations

import gradio as gr

from zoo.demo.tabs import tradeoff as compute

from ..common import PRIVATE, Context, TabUI, handle_errors, presenting, redraw_if_shown, skip_all

TITLE = "Trade-off (β)"
LINK = compute.LINK


def build(ctx: Context) -> TabUI:
    view = ctx.view
    datasets = [d for d in view.datasets() if view.models(dataset=d, study=compute.STUDY)]
    first = "mnist" if "mnist" in datasets else (datasets[0] if datasets else None)  # digits: the lecture's own example
    betas = [s.beta for s in compute.steps(view, first)] if first else [1.0]
    start = betas.index(1.0) if 1.0 in betas else 0
    with gr.Tab(TITLE, id=LINK.tab, visible=bool(datasets)) as tab:
        gr.Markdown("The loss is **reconstruction + β·KL**: a compromise. Reconstruction wants each class in its own "
                    "tight cluster; the KL term wants every region packed at the origin like the prior N(0, I). One 2-D "
                    "model per β, all with the same recipe: move β and watch the clusters pack, the decoded plane blur, "
                    "and the **holes** (decoded images the classifier cannot name, pale) come and go. (Mind the confound: a "
                    "blurrier decoder also leaves the classifier less sure, so the share of sure decodings does not simply "
                    "grow with β.)")
        with gr.Row():
            dataset = gr.Dropdown(datasets, value=first, label="dataset", elem_id="trd-dataset")
            step = gr.Slider(0, max(1, len(betas) - 1), value=start, step=1, label="step of the sweep: β = " + " · ".join(f"{b:g}" for b in betas),
                             elem_id="trd-step")
            chosen = gr.Markdown(elem_id="trd-beta")
            beta = gr.Number(betas[start], visible=False, elem_id="trd-beta-value")  # the slider's β: what the endpoint takes
        with gr.Row():
            latent = gr.Image(label="latent map (test examples' μ)", format="png", interactive=False, show_label=False,
                              min_width=440, elem_id="trd-map")
            holes = gr.Image(label="holes map", format="png", interactive=False, show_label=False, min_width=440,
                              elem_id="trd-holes")
            curve = gr.Image(label="rate–distortion", format="png", interactive=False, show_label=False, min_width=440,
                              elem_id="trd-curve")
        with gr.Row():
            with gr.Column():
                gr.Markdown("**Decoded latent plane** (a grid over the prior's 5%–95% quantiles, as in the Sample tab)")
                plane = gr.Image(label="decoded latent plane", format="png", interactive=False, show_label=False, height=330,
                                 elem_classes="pixelated", elem_id="trd-plane")
            with gr.Column():
                table = gr.Dataframe(headers=["β", "model", "KL (nats)", "recon (nats)", "prior → sure class"],
                                     interactive=False, label="the sweep, measured (vae-zoo eval; the classifier at p ≥ 0.9)",
                                     elem_id="trd-table")
        info = gr.Markdown(elem_id="trd-info")
        link = gr.Textbox(visible=False, elem_id="link-tradeoff")

    def betas_of(dataset):
        return [s.beta for s in compute.steps(view, dataset)]

    @handle_errors
    def tradeoff(dataset: str, beta: float = 1.0, large: bool = False):
        """The β trade-off: the 2-D model of the sweep nearest to β (0 = the AE), its latent map, holes map and decoded plane, and the rate–distortion curve of the whole sweep.

        Args:
            dataset: "mnist" or "fashion_mnist".
            beta: the KL weight; the sweep's nearest step is shown (0, 0.1, 0.25, 0.5, 1, 2, 4, 8).
            large: presentation mode (larger maps).
        Returns:
            the latent map, the holes map, the rate–distortion curve, the decoded latent plane, the sweep's table, a note on the model shown.
        """
        out = compute.tradeoff(view, dataset, beta, large)
        s = out.step
        note = (f"**β = {s.beta:g}** ({s.name}): " + (f"KL {s.rate:.2f} nats, " if s.rate is not None else "no KL term (an AE), ")
                + (f"reconstruction {s.distortion:.1f} nats; " if s.distortion is not None else "")
                + f"{out.holes.confident_share:.0%} of the prior's mass decodes to a class the classifier is sure of.")
        return out.latent_map, out.holes.image, out.curve, out.plane, out.table, note

    outputs = [latent, holes, curve, plane, table, chosen]
    inputs = [dataset, beta, *presenting(ctx)]

    def write_link(dataset, beta, *_):
        return LINK.write(dataset=dataset, beta=beta)

    def beta_at(dataset, index):
        betas = betas_of(dataset)
        return betas[min(max(int(index), 0), len(betas) - 1)]

    step.release(beta_at, [dataset, step], beta, **PRIVATE)
    beta.change(tradeoff, inputs, outputs, api_name="tradeoff", show_progress="minimal").success(write_link, inputs, link, **PRIVATE)
    dataset.input(tradeoff, inputs, outputs, api_visibility="private", show_progress="minimal").success(
        write_link, inputs, link, **PRIVATE)
    if ctx.presentation is not None:  # redrawn larger (or back), if the tab has drawn yet
        ctx.presentation.change(redraw_if_shown(tradeoff, len(outputs)), [*inputs, latent], outputs, **PRIVATE)

    restore_outputs = [dataset, step, beta]

    def restore(opened: dict):
        if opened.get("tab") != LINK.tab:
            return skip_all(restore_outputs)
        p = opened["params"]
        data = p.get("dataset", first)
        if "beta" not in p:
            return [p.get("dataset", gr.skip()), gr.skip(), gr.skip()]
        nearest = compute.nearest(view, data, p["beta"]).beta
        return [p.get("dataset", gr.skip()), betas_of(data).index(nearest), nearest]

    def on_load(event):
        event.then(tradeoff, inputs, outputs, api_visibility="private", show_progress="minimal").success(
            write_link, inputs, link, **PRIVATE)

    return TabUI(LINK.tab, tab, link, restore, restore_outputs, on_load)
