"""Live decoding in the page: the browser runs the zoo's ONNX exports with onnxruntime-web.

The server hands the page, once, a manifest (`window.VAE_ZOO_LIVE`): where the runtime is and
each served model's encoder.onnx / decoder.onnx with what it can do. `web/live.js` then decodes
every slider tick, pointer move and stroke in the page, with no request. The tabs send it what
only the server knows (the codes of the chosen inputs, a map's projection) through hidden JSON
components (`state_box`) that a frontend-only `.change` event hands to live.js.

The runtime (onnxruntime-web, pinned in web/package.json and web/runtime.json) is served from the
app's own origin when `npm ci --prefix web` has installed it (offline first); otherwise, as on a
Space, the page loads the same version from a public CDN, checked against the same
subresource-integrity hashes. If it cannot load, live.js says so in one line and the page keeps
the server path (the tabs' events and API are the same either way).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import gradio as gr

from zoo import get_dataset, resolve_weights
from zoo.onnx import DECODER_FILE, ENCODER_FILE, ONNX_DIR
from zoo.registry import REPO_ROOT

log = logging.getLogger("vae-zoo.app")

WEB_DIR = REPO_ROOT / "web"
SCRIPT = WEB_DIR / "live.js"
RUNTIME = json.loads((WEB_DIR / "runtime.json").read_text())  # the pinned version and its files' SRI hashes
LOCAL_DIST = WEB_DIR / "node_modules" / RUNTIME["package"] / "dist"  # where `npm ci --prefix web` puts it


def file_url(path: Path) -> str:
    """The URL under which Gradio serves a static file of this app (see `static_paths`)."""
    return f"/gradio_api/file={Path(path).resolve()}"


def local_runtime() -> bool:
    """Whether the pinned runtime is installed beside the app, with every file the page needs."""
    return all((LOCAL_DIST / name).is_file() for name in RUNTIME["files"])


def live_models(view) -> dict[str, dict]:
    """Each served model that has an ONNX export beside the weights it is served from: its files and shape."""
    models = {}
    for name in view.names:
        spec = view.spec(name)
        try:
            folder = resolve_weights(spec).folder / ONNX_DIR
        except Exception as exc:  # no weights: the model is not live (and the tabs say why when it is used)
            log.info("%s is not decoded in the page: %s", name, exc)
            continue
        if not all((folder / f).is_file() for f in (ENCODER_FILE, DECODER_FILE)):
            continue  # e.g. weights from a Hub repo without onnx/: this model stays on the server path
        framing = get_dataset(spec.dataset).framing
        models[name] = {"encoder": str(folder / ENCODER_FILE), "decoder": str(folder / DECODER_FILE),
                        "latent_dim": spec.latent_dim, "input_shape": list(spec.input_shape),
                        "conditional": spec.conditional, "variational": spec.variational,
                        "num_classes": len(spec.label_names), "label_names": list(spec.label_names),
                        "framing": {"box": framing.box, "centring": framing.centring}}
    return models


def static_paths(view) -> list[str]:
    """What the page fetches from this app: live.js and the runtime's files (when installed), and each model's
    `onnx/` folder, which holds nothing but its two exports. Gradio checks every output file of every request
    against each of these paths (two realpath calls each), so a folder is registered instead of its two files:
    half the paths, the same files served."""
    paths = [SCRIPT]
    if local_runtime():
        paths += [LOCAL_DIST / name for name in RUNTIME["files"]]
    for model in live_models(view).values():
        paths += [Path(model["encoder"]).parent]
    return list(dict.fromkeys(str(Path(p).resolve()) for p in paths))


def manifest(view) -> dict:
    models = live_models(view)
    for model in models.values():
        model["encoder"], model["decoder"] = file_url(model["encoder"]), file_url(model["decoder"])
    local = local_runtime()
    runtime = {"version": RUNTIME["version"], "files": RUNTIME["files"], "source": "local" if local else "cdn",
               "base": file_url(LOCAL_DIST) + "/" if local else RUNTIME["cdn"]}
    return {"runtime": runtime, "models": models}


def head(view) -> str:
    """The page's <head> additions: the manifest, then live.js as a module (it waits for the page itself)."""
    data = json.dumps(manifest(view)).replace("</", "<\\/")  # never close the script tag early
    return (f"<script>window.VAE_ZOO_LIVE = {data};</script>\n"
            f'<script type="module" src="{file_url(SCRIPT)}"></script>')


def state_box(elem_id: str) -> gr.JSON:
    """A hidden JSON value the server writes for live.js (what only the server knows: codes, projections)."""
    return gr.JSON(None, visible=False, elem_id=elem_id)


def to_page(box: gr.JSON, kind: str) -> None:
    """Hand `box`'s value to live.js whenever the server changes it: a frontend-only event, no request."""
    box.change(None, box, None, js=f"(value) => {{ window.vaeZooLive?.update({json.dumps(kind)}, value); }}",
               api_visibility="private", queue=False)


def on_tick(component, kind: str, inputs: list | None = None) -> None:
    """`component`'s every input tick goes to live.js with `inputs`' values, in the page only (no request)."""
    component.input(None, inputs or [component], None,
                    js=f"(...values) => {{ window.vaeZooLive?.tick({json.dumps(kind)}, values); }}",
                    api_visibility="private", queue=False, show_progress="hidden")
