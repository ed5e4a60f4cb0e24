"""VAE Zoo: the Gradio app. It parses the command line, builds the page by looping over the tabs
(`ui/tabs/`, each computing through `zoo.demo.tabs`), and launches.

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--device cpu] [--models 'vae*'] [--hub-org ORG] [--mcp]

Runs unchanged as a Hugging Face Space. Every tab is also an API endpoint (`/reconstruct`,
`/sample`, `/interpolate`, `/swap_labels`, `/latent_map`, `/traverse`) usable from
`gradio_client`, and with `--mcp` (or `ZOO_MCP=1`) an MCP tool; each tab's settings are written
into the page URL so that a link reproduces the view.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import gradio as gr

from ui import live, page
from ui.common import Context, clear_input_errors
from ui.fair_queue import share_fairly
from ui.guard import RequestLimits, served_files_only
from ui.outputs import written_atomically
from ui.tabs import TABS
from zoo.demo import ZooView

MAX_FILE_SIZE = "5mb"  # = MAX_FILE_BYTES: uploads above this are refused by the server before any handler runs
CONCURRENCY = 2  # model calls at once, all endpoints together: a free Space has 2 CPUs
MODEL_CALLS = "model-calls"  # the one concurrency group of every queued event
QUEUE_SIZE = 128
SESSIONS = 128  # sessions whose state Gradio keeps (about 0.4 MB each: its copy of the page's config); oldest out first


def build_demo(models: str = "*", device: str | None = None) -> gr.Blocks:
    """The app over the zoo's models matching `models`; built, not launched."""
    ctx = Context(ZooView(models, device))
    with gr.Blocks(title="VAE Zoo", analytics_enabled=False) as demo:
        page.header(ctx.view)
        gr.Markdown("Live decoding in your browser: loading…", elem_id="live-status")  # web/live.js writes what it did
        url, notes = page.share_box()
        ctx = dataclasses.replace(ctx, presentation=page.presentation_switch())
        with gr.Tabs(selected=TABS[0].LINK.tab) as tabs:
            built = [tab.build(ctx) for tab in TABS]
        page.wire_links(demo, ctx.view, tabs, built, url, notes)
        page.release_sessions(demo)
        page.wire_presentation(demo, ctx.presentation, url)
    for block in demo.blocks.values():  # a value a component cannot take becomes a gr.Error that says so
        if isinstance(block, gr.components.Component) and not isinstance(block, gr.Image):  # images: see input_picker
            clear_input_errors(block)
        if isinstance(block, (gr.Image, gr.ImageEditor, gr.Gallery, gr.File)):
            served_files_only(written_atomically(block))  # files in: only uploads; pictures out: never rewritten
    demo.gif_dir = ctx.gif_dir
    # The page decodes in the browser (ui/live.py): these files are served as they are, nothing else of their folders.
    gr.set_static_paths(live.static_paths(ctx.view))
    demo.live_head = live.head(ctx.view)
    return demo


def share_concurrency(demo: gr.Blocks, limit: int = CONCURRENCY) -> None:
    """Every queued event in one concurrency group: `limit` model calls at once in all, not per endpoint."""
    for fn in demo.fns.values():
        if fn.queue:
            fn.concurrency_id, fn.concurrency_limit = MODEL_CALLS, limit


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False, mcp: bool | None = False,
           **kwargs):
    """Queue (2 model calls at a time in all, 128 waiting, clients in turn) and serve, with the request size limits; with `mcp`, also as MCP tools."""
    import torch
    from starlette.middleware import Middleware

    # One thread per request: the models are tiny, and on a shared 2-CPU machine two requests on
    # one core each beat one request whose two threads wait for each other (1 ms vs 30 ms a decode).
    torch.set_num_threads(1)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    share_concurrency(demo)
    share_fairly(demo)  # one client may not fill the line, and clients take turns
    app_kwargs = kwargs.pop("app_kwargs", {})
    app_kwargs.setdefault("middleware", []).append(Middleware(RequestLimits))
    return demo.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_FILE_SIZE, css=page.CSS,
                       allowed_paths=[str(demo.gif_dir)], mcp_server=mcp, state_session_capacity=SESSIONS,
                       app_kwargs=app_kwargs, head=getattr(demo, "live_head", None), **kwargs)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="VAE Zoo: the Gradio app over the zoo's models.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to listen on (0.0.0.0 for everyone on the network; default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)), help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: best available, or ZOO_DEVICE)")
    parser.add_argument("--models", default="*", help="serve only the models matching this fnmatch pattern, e.g. '*.mnist'")
    parser.add_argument("--hub-org", help="load every model from ORG/<model-name> on the Hugging Face Hub "
                                          "(default: ZOO_HUB_ORG, else the bundled weights)")
    parser.add_argument("--mcp", action="store_true", default=_flag("ZOO_MCP"),
                        help="also serve every tab as an MCP tool at /gradio_api/mcp/ (default: ZOO_MCP)")
    args = parser.parse_args(argv)
    try:
        if args.hub_org:
            from zoo.download import set_hub_org

            set_hub_org(args.hub_org)
        if args.device:
            from zoo import resolve_device

            resolve_device(args.device)
        demo = build_demo(args.models, args.device)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    launch(demo, args.host, args.port, args.share, mcp=args.mcp or None)  # None: Gradio's own GRADIO_MCP_SERVER decides
    return 0


if __name__ == "__main__":
    sys.exit(main())
