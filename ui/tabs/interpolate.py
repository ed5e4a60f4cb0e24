"""Interpolate tab: walk between the codes of two inputs; moving t is a lookup, not a model call."""

from __future__ import annotations

import gradio as gr

from zoo.demo import PATHS
from zoo.demo import images as im
from zoo.demo.tabs import interpolate as compute

from .. import live
from ..common import PRIVATE, Context, TabUI, as_int, example_only, gallery_of, handle_errors, picker_pair, skip_all

TITLE = "Interpolate"
LINK = compute.LINK


def build(ctx: Context) -> TabUI:
    view = ctx.view
    first = compute.default_model(view)
    dataset = view.spec(first).dataset
    with gr.Tab(TITLE, id=LINK.tab) as tab:
        frames = gr.State(None)
        with gr.Row():
            with gr.Column(scale=2):
                model = gr.Dropdown(view.models(), value=first, label="model", elem_id="itp-model")
                path = gr.Radio(list(PATHS), value="linear", label="path through latent space", elem_id="itp-path")
                steps = gr.Slider(2, 64, value=16, step=1, label="frames", elem_id="itp-steps")
                a, b = picker_pair(view, dataset, ("A", "B"), (0, 1), "itp")
                button = gr.Button("Interpolate", variant="primary", elem_id="itp-run")
                info = gr.Markdown(elem_id="itp-info")
            with gr.Column(scale=3):
                # Any t: the page decodes it live (ui/live.py); the server shows the nearest precomputed frame.
                t = gr.Slider(0, 1, value=0.5, step=0.01, label="t (0 = A, 1 = B)", elem_id="itp-t")
                frame = gr.Image(label="decoded at t", format="png", interactive=False, height=240, width=240,
                                 elem_classes="pixelated", elem_id="itp-frame")
                strip = gr.Image(label="all frames", format="png", interactive=False, elem_classes="pixelated", elem_id="itp-strip")
                gr.Markdown("Frames decode the path between the posterior means of A and B. A conditional model "
                            "decodes with A's label up to t = 0.5 and with B's after.")
                gif = gr.Image(label="animated GIF (download button, top right)", type="filepath", format="gif",
                               interactive=False, height=160, elem_id="itp-gif")
        link = gr.Textbox(visible=False, elem_id="link-interpolate")
        ends = live.state_box("itp-live")

    @handle_errors
    def interpolate(model: str, path: str = "linear", steps: int = 16, a_source: str = "example", a_index: int = 0,
                    a_upload=None, a_sketch=None, b_source: str = "example", b_index: int = 1, b_upload=None, b_sketch=None,
                    t: float = 0.5, frames_state=None):
        """Decode the straight (or spherical) path between the codes of two images: a continuous latent space morphs smoothly.

        Args:
            model: the zoo model whose latent space to walk.
            path: "linear" or "spherical" (along the great circle, where the prior puts its mass).
            steps: frames on the path, 2 to 64.
            a_source: input A: "example", "upload" or "draw".
            a_index: A's test example index, when a_source is "example".
            a_upload: A's image file, when a_source is "upload".
            a_sketch: A's drawing, when a_source is "draw".
            b_source: input B: "example", "upload" or "draw".
            b_index: B's test example index, when b_source is "example".
            b_upload: B's image file, when b_source is "upload".
            b_sketch: B's drawing, when b_source is "draw".
            t: which frame to show, 0 (A) to 1 (B).
        Returns:
            A and B as the model sees them, the frame at t, the strip of all frames, an animated GIF, model notes.
        """
        dataset = view.spec(model).dataset
        pa = view.pick(dataset, a_source, a_index, a_upload, a_sketch)
        pb = view.pick(dataset, b_source, b_index, b_upload, b_sketch)
        out = compute.interpolate(view, model, pa, pb, path, steps, cached=frames_state, gif_folder=ctx.gif_dir)
        return (im.enlarge(pa.image), im.enlarge(pb.image), compute.frame_at(out.frames, t), out.strip, out.gif, out.state,
                view.model_info(model))

    @handle_errors
    def interpolate_frame(frames_state=None, t: float = 0.5):
        """The frame at t of the last interpolation: a lookup, no model call."""
        return compute.frame_at(frames_state.get("frames") if isinstance(frames_state, dict) else None, t)

    inputs = [model, path, steps, *a.inputs, *b.inputs, t, frames]
    outputs = [a.preview, b.preview, frame, strip, gif, frames, info]

    def write_link(model, path, steps, a_source, a_index, b_source, b_index, t):
        params = dict(model=model, path=path, steps=as_int(steps), a=as_int(a_index), b=as_int(b_index), t=round(float(t), 3))
        return LINK.write(**example_only(params, a_source, b_source))

    link_args = (write_link, [model, path, steps, a.source, a.index, b.source, b.index, t], link)
    def for_page(frames_state, t):
        """The path's ends (and t) for live.js, which decodes any t in the page."""
        ends = frames_state.get("ends") if isinstance(frames_state, dict) else None
        return dict(ends, values=[t]) if ends else None

    live_args = (for_page, [frames, t], ends)
    button.click(interpolate, inputs, outputs, api_name="interpolate").success(*link_args, **PRIVATE).success(*live_args, **PRIVATE)
    # Each tick is decoded in the page; the server's lookup and the link follow when the drag ends.
    live.on_tick(t, "interpolate")
    t.release(interpolate_frame, [frames, t], frame, api_name="interpolate_frame", api_visibility="undocumented", queue=False,
              show_progress="hidden", trigger_mode="always_last").success(*link_args, **PRIVATE)
    live.to_page(ends, "interpolate")
    model.input(lambda n: (gallery_of(view, view.spec(n).dataset),) * 2 + (view.model_info(n),), model, [a.gallery, b.gallery, info],
                **PRIVATE)

    restore_outputs = [model, path, steps, a.index, b.index, t, a.gallery, b.gallery]

    def restore(opened: dict):
        if opened.get("tab") != LINK.tab:
            return skip_all(restore_outputs)
        p = opened["params"]
        galleries = [gallery_of(view, view.spec(p["model"]).dataset)] * 2 if "model" in p else [gr.skip()] * 2
        return [p.get(key, gr.skip()) for key in ("model", "path", "steps", "a", "b", "t")] + galleries

    def on_load(event):
        event.then(interpolate, inputs, outputs, api_visibility="private", show_progress="minimal").success(
            *link_args, **PRIVATE).success(*live_args, **PRIVATE)

    return TabUI(LINK.tab, tab, link, restore, restore_outputs, on_load)
