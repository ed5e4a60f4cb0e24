"""Label swap tab (conditional models): A's style under every label, and under B's."""

from __future__ import annotations

import gradio as gr

from zoo import InputError
from zoo.demo import AUTO
from zoo.demo import images as im
from zoo.demo.tabs import swap_labels as compute

from ..common import (PRIVATE, Context, TabUI, as_int, example_only, gallery_of, handle_errors, picker_pair, label_choices,
                      skip_all)

TITLE = "Label swap"
LINK = compute.LINK


def build(ctx: Context) -> TabUI:
    view = ctx.view
    conditional = view.models(conditional=True)
    first = compute.default_model(view)
    dataset = view.spec(first).dataset if first else view.datasets()[0]
    with gr.Tab(TITLE, id=LINK.tab, visible=bool(conditional)) as tab:
        gr.Markdown("Encode A's **style** with its own label, then decode that style under **every** label. "
                    "Below: A's style with **B's label**. Conditional models only.")
        with gr.Row():
            with gr.Column(scale=2):
                model = gr.Dropdown(conditional, value=first, label="conditional model", elem_id="swp-model")
                label = gr.Dropdown([AUTO] + (view.spec(first).label_names if first else []), value=AUTO, allow_custom_value=True,
                                    label="A's label (auto: the example's, else the model's best guess)", elem_id="swp-label")
                a, b = picker_pair(view, dataset, ("A (style)", "B (label)"), (0, 7), "swp")
                button = gr.Button("Swap labels", variant="primary", elem_id="swp-run")
                info = gr.Markdown(elem_id="swp-info")
            with gr.Column(scale=3):
                row = gr.Gallery(label="A's style under every label", columns=5, height=320, object_fit="contain", format="png",
                                 elem_classes="pixelated", elem_id="swp-row")
                swapped = gr.Image(label="A's style, B's label", format="png", interactive=False, height=200, width=200,
                                   elem_classes="pixelated", elem_id="swp-swapped")
                caption = gr.Markdown(elem_id="swp-caption")
                truth = gr.Gallery(label="the truth: A's face's true glyphs (glyphs), or A drawn under every shape by the "
                                         "dataset's renderer, its scale, orientation, position kept (shapes)", columns=8, height=320,
                                   object_fit="contain", format="png", visible=False, elem_classes="pixelated", elem_id="swp-truth")
                with gr.Row():
                    text = gr.Textbox(value="Hello World", label="write in A's style (characters that are labels; Enter for a new line)",
                                      lines=2, max_length=compute.MAX_TEXT, scale=3, elem_id="swp-text")
                    write_button = gr.Button("Write", scale=1, elem_id="swp-write")
                written = gr.Image(label="A's style, your text", format="png", interactive=False, show_label=True, elem_id="swp-written")
                gr.Markdown("**More styles**: each row is one input's style (A first, then a test example of every "
                            "class), decoded under every label.")
                grid = gr.Image(label="more styles", format="png", interactive=False, show_label=False, elem_id="swp-grid")
        link = gr.Textbox(visible=False, elem_id="link-swap_labels")

    @handle_errors
    def swap_labels(model: str, label: str = AUTO, a_source: str = "example", a_index: int = 0, a_upload=None, a_sketch=None,
                    b_source: str = "example", b_index: int = 7, b_upload=None, b_sketch=None):
        """Label swapping with a conditional model: encode A's style, decode it under every label and under B's label.

        Args:
            model: a conditional zoo model (a CVAE).
            label: A's own label; "auto" uses the example's, else the model's best guess.
            a_source: input A (the style): "example", "upload" or "draw".
            a_index: A's test example index, when a_source is "example".
            a_upload: A's image file, when a_source is "upload".
            a_sketch: A's drawing, when a_source is "draw".
            b_source: input B (the label): "example", "upload" or "draw".
            b_index: B's test example index, when b_source is "example".
            b_upload: B's image file, when b_source is "upload".
            b_sketch: B's drawing, when b_source is "draw".
        Returns:
            A and B as the model sees them, A's style under every label, A's style under B's label,
            a grid of more styles under every label, a caption, model notes.
        """
        dataset = view.spec(model).dataset
        pa = view.pick(dataset, a_source, a_index, a_upload, a_sketch)
        pb = view.pick(dataset, b_source, b_index, b_upload, b_sketch)
        out = compute.swap_labels(view, model, pa, label, pb)
        return im.enlarge(pa.image), im.enlarge(pb.image), out.row, out.swapped, out.grid, out.caption, view.model_info(model)

    inputs = [model, label, *a.inputs, *b.inputs]
    outputs = [a.preview, b.preview, row, swapped, grid, caption, info]

    def show_truth(model, a_source, a_index, a_upload, a_sketch):
        try:
            pa = view.pick(view.spec(model).dataset, a_source, a_index, a_upload, a_sketch)
            glyphs = compute.true_gallery(view, model, pa)
        except InputError:  # swap_labels has said what is wrong with the input
            glyphs = None
        return gr.Gallery(glyphs, visible=glyphs is not None)

    truth_args = (show_truth, [model, *a.inputs], truth)

    @handle_errors
    def write(model: str, label: str = AUTO, a_source: str = "example", a_index: int = 0, a_upload=None, a_sketch=None,
              text: str = "Hello World"):
        """Write text in the style of one image: encode A's style, decode every character of the text under its label.

        Args:
            model: a conditional zoo model (a CVAE); the glyph CVAE knows A-Z, a-z and 0-9, a digit CVAE 0-9.
            label: A's own label; "auto" uses the example's, else the model's best guess.
            a_source: input A (the style): "example", "upload" or "draw".
            a_index: A's test example index, when a_source is "example".
            a_upload: A's image file, when a_source is "upload".
            a_sketch: A's drawing, when a_source is "draw".
            text: what to write: characters that are the model's labels, spaces and line breaks (at most 200).
        Returns:
            The text drawn in A's style (light on dark), and a caption.
        """
        pa = view.pick(view.spec(model).dataset, a_source, a_index, a_upload, a_sketch)
        out = compute.write(view, model, pa, text, label)
        return out.image, out.caption

    write_button.click(write, [model, label, *a.inputs, text], [written, caption], api_name="write")
    text.submit(write, [model, label, *a.inputs, text], [written, caption], **PRIVATE)

    def write_link(model, label, a_source, a_index, b_source, b_index):
        return LINK.write(**example_only(dict(model=model, label=label, a=as_int(a_index), b=as_int(b_index)), a_source, b_source))

    link_args = (write_link, [model, label, a.source, a.index, b.source, b.index], link)
    button.click(swap_labels, inputs, outputs, api_name="swap_labels").success(*link_args, **PRIVATE).success(*truth_args, **PRIVATE)

    def on_model(name):
        pictures = gallery_of(view, view.spec(name).dataset)
        return label_choices(view, name), pictures, pictures, view.model_info(name)

    model.input(on_model, model, [label, a.gallery, b.gallery, info], **PRIVATE)

    restore_outputs = [model, label, a.index, b.index, a.gallery, b.gallery]

    def restore(opened: dict):
        if opened.get("tab") != LINK.tab:
            return skip_all(restore_outputs)
        p = opened["params"]
        if "model" not in p:
            return [gr.skip(), p.get("label", gr.skip()), p.get("a", gr.skip()), p.get("b", gr.skip()), gr.skip(), gr.skip()]
        pictures = gallery_of(view, view.spec(p["model"]).dataset)
        return [p["model"], label_choices(view, p["model"], value=p.get("label")), p.get("a", gr.skip()), p.get("b", gr.skip()),
                pictures, pictures]

    def on_load(event):
        if conditional:
            event.then(swap_labels, inputs, outputs, api_visibility="private", show_progress="minimal").success(*link_args, **PRIVATE)
            event.then(*truth_args, **PRIVATE)

    return TabUI(LINK.tab, tab, link, restore, restore_outputs, on_load)
