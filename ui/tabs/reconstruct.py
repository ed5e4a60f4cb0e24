"""Reconstruct tab: one input through every chosen model of a dataset, side by side."""

from __future__ import annotations

import gradio as gr

from zoo.demo import AUTO
from zoo.demo import images as im
from zoo.demo.tabs import reconstruct as compute

from ..common import PRIVATE, Context, TabUI, as_int, example_only, gallery_of, handle_errors, input_picker, skip_all

TITLE = "Reconstruct"
LINK = compute.LINK


def build(ctx: Context) -> TabUI:
    view = ctx.view
    first = view.datasets()[0]
    with gr.Tab(TITLE, id=LINK.tab) as tab:
        with gr.Row():
            with gr.Column(scale=2):
                dataset = gr.Dropdown(view.datasets(), value=first, label="dataset", elem_id="rec-dataset")
                models = gr.Dropdown(view.models(dataset=first), value=[], multiselect=True, allow_custom_value=True,
                                     label="models (none chosen: every model of the dataset)", elem_id="rec-models")
                label = gr.Dropdown([AUTO] + view.label_names(first), value=AUTO, allow_custom_value=True,
                                    label="label given to conditional models (auto: the example's, else the model's best guess)")
                picker = input_picker(view, "input", first, 0, "rec")
                button = gr.Button("Reconstruct", variant="primary", elem_id="rec-run")
            with gr.Column(scale=3):
                gallery = gr.Gallery(label="reconstructions (μ decoded), in the table's order", columns=4, height=220, object_fit="contain", format="png",
                                     elem_classes="pixelated", elem_id="rec-gallery")
                regions = gr.Image(label="region, not point: μ decoded, then draws from q(z|x) decoded", format="png",
                                   interactive=False, elem_classes="pixelated", elem_id="rec-regions")
                table = gr.Dataframe(headers=["model", "latent", "recon (nats)", "KL (nats)", "total (nats)"],
                                     interactive=False, label="loss parts, per image", elem_id="rec-table")
                posterior = gr.Image(label="posterior q(z|x): μ ± σ per dimension", format="png", interactive=False, show_label=False,
                                     elem_id="rec-posterior")
                info = gr.Markdown(elem_id="rec-info")
        link = gr.Textbox(visible=False, elem_id="link-reconstruct")

    @handle_errors
    def reconstruct(dataset: str, models: list[str] | None = None, source: str = "example", example_index: int = 0,
                    upload=None, sketch=None, label: str = AUTO):
        """Reconstruct one image with every chosen model of a dataset: what each model rebuilds from its code.

        Args:
            dataset: the dataset whose models and test examples to use ("mnist" or "fashion_mnist").
            models: model names to compare; none means every model of the dataset.
            source: "example" (a shipped test example), "upload" or "draw".
            example_index: which test example, when source is "example".
            upload: an image file, when source is "upload"; framed like the dataset's images.
            sketch: a drawing, when source is "draw".
            label: the label given to conditional models; "auto" uses the example's, else the model's best guess.
        Returns:
            the input as the models see it, the reconstructions, a table of loss parts (nats), the posterior plot, model notes,
            and per model μ decoded beside a few draws from q(z|x) decoded (a VAE's differ: a region; an AE's do not: a point).
        """
        picked = view.pick(dataset, source, example_index, upload, sketch)
        every = compute.model_names(view, dataset, models)
        # every model of the dataset: one that cannot load is left out (its note says why), not the whole tab
        names = every if models else [n for n in every if not view.broken(n)] or every
        out = compute.reconstruct(view, names, picked, label)
        return (im.enlarge(picked.image), out.gallery, out.table, out.posterior, "\n\n".join(view.model_info(n) for n in every),
                out.regions)

    inputs = [dataset, models, *picker.inputs, label]
    outputs = [picker.preview, gallery, table, posterior, info, regions]

    def write_link(dataset, models, source, index, label):
        return LINK.write(**example_only(dict(dataset=dataset, models=models, a=as_int(index), label=label), source))

    link_args = (write_link, [dataset, models, picker.source, picker.index, label], link)
    button.click(reconstruct, inputs, outputs, api_name="reconstruct").success(*link_args, **PRIVATE)

    def on_dataset(dataset):
        return (gr.update(choices=view.models(dataset=dataset), value=[]),
                gr.update(choices=[AUTO] + view.label_names(dataset), value=AUTO), gallery_of(view, dataset))

    dataset.input(on_dataset, dataset, [models, label, picker.gallery], **PRIVATE)

    restore_outputs = [dataset, models, picker.index, label, picker.gallery]

    def restore(opened: dict):
        if opened.get("tab") != LINK.tab:
            return skip_all(restore_outputs)
        params = opened["params"]
        chosen = params.get("dataset")
        if chosen is None:
            return [gr.skip(), gr.skip(), params.get("a", gr.skip()), params.get("label", gr.skip()), gr.skip()]
        return [chosen, gr.update(choices=view.models(dataset=chosen), value=params.get("models", [])), params.get("a", gr.skip()),
                gr.update(choices=[AUTO] + view.label_names(chosen), value=params.get("label", AUTO)), gallery_of(view, chosen)]

    def on_load(event):
        event.then(reconstruct, inputs, outputs, api_visibility="private", show_progress="minimal").success(*link_args, **PRIVATE)

    return TabUI(LINK.tab, tab, link, restore, restore_outputs, on_load)
