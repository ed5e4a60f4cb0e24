"""The server's edge: what a request may carry before any handler sees it.

- `RequestLimits`, an ASGI middleware: one body limit for every route (uploads, API calls, queue
  joins: a `data:` URL inside a JSON body included) and a limit on the URL's length, each
  answered with a short HTTP error (413, 414) before the body is read into memory.
- `served_files_only(component)`: a file argument is read only when it lies in Gradio's own
  upload and output folder (checked after resolving links), and a `data:` URL only up to the
  upload limit; either way the message names no server path.
- `scrub_paths(text)`: absolute paths in a message a user sees are cut to their last part.
"""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from zoo.demo.links import scrub_paths

MAX_FILE_BYTES = 5 * 2**20  # the upload limit, Gradio's "5mb": an upload, or an image sent inline as a data: URL
# The largest body a request needs: one file at the limit as base64 inside a JSON body, plus the rest of the JSON.
MAX_BODY_BYTES = (MAX_FILE_BYTES + 2) // 3 * 4 + 256 * 2**10
MAX_URL_BYTES = 16 * 2**10  # a link of this app is under 2 KB; browsers and proxies cut far longer ones anyway

class TooLarge(Exception):
    pass


class RequestLimits:
    """ASGI middleware: refuse a body over `max_body` bytes (413) and a URL over `max_url` bytes (414).

    A declared Content-Length over the limit is refused before anything is read; a chunked body
    is counted as it arrives and refused once it passes the limit."""

    def __init__(self, app, max_body: int = MAX_BODY_BYTES, max_url: int = MAX_URL_BYTES):
        self.app, self.max_body, self.max_url = app, max_body, max_url

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") > self.max_url:
            return await _refuse(send, 414, f"the address is longer than {self.max_url // 1024} KB; "
                                            "a link of this app is much shorter: open the page without it")
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return await _refuse(send, 413, self._too_large())
        seen, started, over = 0, False, False

        async def counted_receive():
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    over = True
                    raise TooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            if over:  # the app's answer to a body cut short (a 400 "cannot parse"): ours is the 413 below
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except TooLarge:
            pass
        if over and not started:
            await _refuse(send, 413, self._too_large())

    def _too_large(self) -> str:
        return (f"the request is larger than {self.max_body / 2**20:.1f} MB; images up to "
                f"{MAX_FILE_BYTES // 2**20} MB are accepted")


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def served_roots() -> list[Path]:
    """Where Gradio keeps what users uploaded and what the app answered (one folder, unless
    GRADIO_TEMP_DIR moves it), resolved."""
    return [Path(get_upload_folder()).resolve()]


def check_file_argument(payload) -> None:
    """Raise a gr.Error unless every file in `payload` (a FileData-like dict, or dicts and lists
    of them) is in Gradio's upload or output folder, and every data: URL is within the upload limit."""
    if hasattr(payload, "model_dump"):  # Gradio hands preprocess its data model (FileData, ImageData, EditorData)
        payload = payload.model_dump()
    if isinstance(payload, (list, tuple)):
        for item in payload:
            check_file_argument(item)
        return
    if not isinstance(payload, dict):
        return
    url = payload.get("url")
    if isinstance(url, str) and url.startswith("data:"):
        if _data_url_bytes(url) > MAX_FILE_BYTES:
            raise gr.Error(f"the inline image is larger than {MAX_FILE_BYTES // 2**20} MB; use a smaller one",
                           print_exception=False)
    path = payload.get("path")
    if isinstance(path, str) and not path.startswith(("http://", "https://")) and path:
        if not _served(path):
            raise gr.Error("this file was not uploaded to the app: upload it first (gradio_client's handle_file does), "
                           "then pass what the upload returned", print_exception=False)
    elif path is not None and not isinstance(path, str):
        raise gr.Error("a file argument's path must be text", print_exception=False)
    for key in ("background", "layers", "composite", "image", "video"):  # ImageEditor, Gallery items
        if key in payload:
            check_file_argument(payload[key])


def _served(path: str) -> bool:
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return any(resolved.is_relative_to(root) and resolved != root for root in served_roots())


def _data_url_bytes(url: str) -> int:
    """The decoded size of a data: URL, without decoding more of it than the limit."""
    head, _, data = url.partition(",")
    if head.endswith(";base64"):
        return len(data.rstrip("=")) * 3 // 4
    return len(data) - 2 * data.count("%")  # percent-encoded text: each %XX is one byte


def served_files_only(component):
    """Check a component's file arguments (`check_file_argument`) before its own preprocess reads them."""
    preprocess = component.preprocess

    def checked(payload):
        check_file_argument(payload)
        return preprocess(payload)

    component.preprocess = checked
    return component
