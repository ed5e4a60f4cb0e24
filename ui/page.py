"""The page around the tabs: the header and explainer, the share box, and opening a link.

Each tab keeps its link in a hidden textbox (`TabUI.link`); the share box shows the one of the
tab on screen and writes it into the address bar. Opening a link reads it once (`read`), then
asks every tab for its own part (`TabUI.restore`) and runs only the tab it opens
(`TabUI.on_load`); every other tab runs when it is first shown. What was ignored in a link is
shown as plain text, never as Markdown or HTML: a link is written by whoever sends it.
"""

from __future__ import annotations

import gradio as gr

from zoo.demo import LINKS, ZooView, read_link
from zoo.demo.links import link_notes

from .common import PRIVATE, TabUI

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


def header(view: ZooView) -> None:
    datasets = " and ".join(view.datasets())
    gr.Markdown(f"# VAE Zoo\nAE, VAE and CVAE on {datasets}, side by side.")
    with gr.Accordion("What am I looking at? (AE vs VAE vs CVAE)", open=False):
        gr.Markdown(EXPLAINER)


def share_box():
    """The link of the view on screen, a copy button, and the notes on a link that was opened."""
    with gr.Row(elem_id="share-row"):
        url = gr.Textbox(label="link to this view", interactive=False, scale=5, elem_id="share-url")
        copy = gr.Button("copy link", scale=1, elem_id="copy-link")
    notes = gr.Textbox(label="some of the link was ignored", interactive=False, visible=False, max_lines=6,
                       elem_id="link-notes")
    url.change(None, url, url, js=_JS_SET_URL, api_visibility="private")
    copy.click(None, None, None, js=_JS_COPY, api_visibility="private")
    return url, notes


def wire_links(demo: gr.Blocks, view: ZooView, tabs: gr.Tabs, built: list[TabUI], url: gr.Textbox, notes: gr.Textbox) -> None:
    """The share box follows the tab on screen; opening a link restores its tab and runs that tab
    only; another tab runs the first time it is shown."""
    first = built[0].id
    current = gr.State(first)
    link_boxes = [ui.link for ui in built]
    ids = [ui.id for ui in built]

    def shown(tab, *links):
        return links[ids.index(tab)] if tab in ids else gr.skip()

    opened = gr.State({})

    def read(request: gr.Request):
        tab, params, problems = read_link(dict(request.query_params) if request else {})
        if tab:
            params, more = LINKS[tab].clean(view, params)
            problems += more
        note = link_notes(problems)
        return (gr.update(selected=tab) if tab else gr.skip(), tab or first, gr.update(value=note, visible=bool(note)),
                {"tab": tab, "params": params})

    loaded = demo.load(read, None, [tabs, current, notes, opened], api_visibility="private")
    for ui in built:
        # "run" once: the tab's first run, when the link opens it or when it is first shown; the
        # value never changes again, so later visits show what is there.
        start = gr.Textbox(visible=False, elem_id=f"start-{ui.id}")
        ui.on_load(start.change(_nothing, None, None, **PRIVATE))
        restored = loaded.then(ui.restore, opened, ui.restore_outputs, **PRIVATE)
        restored.then(lambda o, t=ui.id: "run" if (o.get("tab") or first) == t else gr.skip(), opened, start, **PRIVATE)
        selected = ui.tab.select(lambda t=ui.id: t, None, current, **PRIVATE)
        selected.then(shown, [current, *link_boxes], url, **PRIVATE)
        # Gradio also reports the first tab as selected when the page mounts, before the link is read
        # (which then sets `current` to the tab it opens): only the tab still current is being shown.
        selected.then(lambda o, c, t=ui.id: "run" if o and c == t else gr.skip(), [opened, current], start, **PRIVATE)
        ui.link.change(shown, [current, *link_boxes], url, **PRIVATE)


def _nothing():
    return None


def release_sessions(demo: gr.Blocks) -> None:
    """When a browser session ends (its tab closed), drop what Gradio keeps for it: its copy of
    the page's config and its states (about 0.4 MB). Sessions that never close (API clients) are
    bounded by `launch(state_session_capacity=...)`, oldest out first."""

    def end(request: gr.Request):
        holder = getattr(demo, "state_holder", None)
        if holder is not None and request is not None and request.session_hash:
            with holder.lock:
                holder.session_data.pop(request.session_hash, None)
                holder.time_last_used.pop(request.session_hash, None)

    demo.unload(end)
