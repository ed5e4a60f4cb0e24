"""Publishing to the Hugging Face Hub: a zoo entry's weights and card, and the app as a Space.

This sits above the rest of the zoo: it reads the bundled weights and cards, and asks
zoo/download.py for the Hub's settings (`ZOO_HUB_ORG`, `HF_ENDPOINT`). The config.json it uploads
records the family (`architecture`) and the zoo's version, so `zoo.create_model("hf-hub:OWNER/REPO")`
loads the repo without a plugin.

It uses the token from the usual places (`HF_TOKEN`, then `hf auth login`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError

from .cards import read_record, render_card
from .download import HUB_ORG_ENV, LIBRARY, describe, endpoint, hub_org, sha256_of
from .errors import InputError
from .locations import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, stamp_config
from .onnx import ONNX_DIR
from .registry import REPO_ROOT, get_spec, list_models
from .version import __version__

# Files of the Space: the app, the library, the plugins, the app's assets, and how to install them.
SPACE_FILES = ["app.py", "requirements.txt", "README.md", "zoo/*", "plugins/*", "assets/*",
               # the page's live decoding (ui/live.py): a Space has no npm, so it loads the pinned runtime from a CDN
               "web/live.js", "web/runtime.json", "web/package.json", "web/package-lock.json"]
SPACE_WEIGHTS = ["weights/*"]
SPACE_CLASSIFIERS = ["weights/_classifiers/*"]  # not zoo entries, never published as models: always shipped
SPACE_IGNORE = ["*__pycache__*", "*.pyc", "*.tmp", "*.DS_Store"]


@dataclass(frozen=True)
class Published:
    name: str
    repo_id: str
    commit: str  # pin it: ModelSpec(..., hub_repo=repo_id, revision=commit, sha256=sha256)
    url: str
    sha256: str  # of model.safetensors


def publish(name: str, *, repo_id: str | None = None, org: str | None = None, private: bool | None = None,
            token: str | None = None, allow_unmeasured: bool = False) -> Published:
    """Upload `name`'s bundled config.json, model.safetensors, model card and ONNX export (onnx/, if there
    is one) to `repo_id` (default ORG/<name>).

    The repo is created if needed. The card is re-rendered for the Hub: metrics as model-index eval
    results, dataset, recipe, license, tags, and a loading snippet for this repo. An unchanged upload
    makes no new commit. Token: `token`, else HF_TOKEN, else `hf auth login`.
    """
    spec = get_spec(name)
    org = org or hub_org()
    if repo_id is None:
        if not org:
            raise InputError(f"where to publish {name}? pass --org ORG (or --repo-id OWNER/NAME), or set {HUB_ORG_ENV}")
        repo_id = f"{org}/{name}"
    folder = spec.bundled_dir
    for filename in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / filename).is_file():
            raise FileNotFoundError(f"{name}: no {folder / filename} to publish; train it with `python -m zoo train {name}`")
    record = read_record(folder)
    if not record.get("metrics") and not allow_unmeasured:
        raise InputError(f"{name}: its card has no metrics yet, so the Hub card would have no eval results; "
                         f"run `python -m zoo eval {name}` first (or pass --allow-unmeasured)")
    api = _authenticated_api(token)
    with tempfile.TemporaryDirectory(prefix="zoo-publish-") as staging, _as_value_error(f"publishing {name} to {repo_id}"):
        api.create_repo(repo_id, private=private, exist_ok=True)
        for filename in (CONFIG_FILE, WEIGHTS_FILE):
            shutil.copyfile(folder / filename, Path(staging) / filename)
        if (folder / ONNX_DIR).is_dir():  # the ONNX export (`zoo export-onnx`), in the Hub's usual onnx/ folder
            shutil.copytree(folder / ONNX_DIR, Path(staging) / ONNX_DIR)
        stamp_config(Path(staging), spec.family)  # so hf-hub:OWNER/REPO loads without a plugin
        render_card(spec, record, hub_repo=repo_id).save(Path(staging) / CARD_FILE)
        info = api.upload_folder(repo_id=repo_id, folder_path=staging, commit_message=f"Publish {name} with vae-zoo")
    url = f"{api.endpoint}/{repo_id}"
    return Published(name, repo_id, info.oid, url, sha256_of(folder / WEIGHTS_FILE))


def deploy_space(space_id: str, *, hub_org: str | None = None, private: bool | None = None,
                 token: str | None = None, root: Path = REPO_ROOT) -> str:
    """Create or update the Gradio Space `space_id` with the app; returns its URL.

    With `hub_org`, the Space loads the weights from that org (Space variable ZOO_HUB_ORG) and the
    bundled weights are left out; without, it ships them and loads them offline.
    """
    root = Path(root)
    if not (root / "app.py").is_file():
        raise FileNotFoundError(f"no app.py in {root}: the Space runs the app, so it must be there")
    api = _authenticated_api(token)
    if hub_org:  # the Space ships no zoo weights then: each must be on the Hub
        with _as_value_error(f"checking {hub_org}'s models"):
            missing = [name for name in list_models()
                       if not api.file_exists(get_spec(name).hub_repo or f"{hub_org}/{name}", WEIGHTS_FILE)]
        if missing:
            raise InputError(f"the Space would load its weights from {hub_org}, which lacks {', '.join(missing)}; "
                             f"publish them first: python -m zoo publish --all --org {hub_org}")
    with _as_value_error(f"deploying the Space {space_id}"):
        url = api.create_repo(space_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
        shipped = SPACE_FILES + (SPACE_CLASSIFIERS if hub_org else SPACE_WEIGHTS)
        # Files under the shipped folders that are gone locally (or weights now loaded from the Hub) are removed.
        api.upload_folder(repo_id=space_id, repo_type="space", folder_path=root, allow_patterns=shipped,
                          ignore_patterns=SPACE_IGNORE, delete_patterns=["zoo/*", "plugins/*", "assets/*", "weights/*", "web/*"],
                          commit_message="Deploy vae-zoo" + (f" (weights from {hub_org})" if hub_org else ""))
        if hub_org:
            api.add_space_variable(space_id, HUB_ORG_ENV, hub_org, description="load the zoo's weights from this Hub org")
        elif HUB_ORG_ENV in api.get_space_variables(space_id):
            api.delete_space_variable(space_id, HUB_ORG_ENV)
    return str(url)


@contextmanager
def _as_value_error(doing: str):
    """Hub errors while writing become InputErrors that say what failed, for the CLI to print."""
    try:
        yield
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        hint = "; does the token have write access to that namespace?" if status in (401, 403) else ""
        raise InputError(f"{doing}: the Hub answered {describe(exc, endpoint())}{hint}") from None
    except ValueError:
        raise
    except Exception as exc:  # the network, mostly: say what, not a traceback
        raise InputError(f"{doing}: {describe(exc, endpoint())}") from None


def _authenticated_api(token: str | None) -> HfApi:
    """An HfApi for writing, whose token is known to work: a missing or rejected token is an InputError."""
    token = token or get_token()
    if not token:
        raise InputError("no Hugging Face token: set HF_TOKEN, or run `hf auth login`, with a token that can write "
                         "(https://huggingface.co/settings/tokens)")
    api = HfApi(endpoint=endpoint(), token=token, library_name=LIBRARY, library_version=__version__)
    try:
        api.whoami()
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            where = "from HF_TOKEN" if token == os.environ.get("HF_TOKEN") else "given"
            raise InputError(f"the Hub at {api.endpoint} rejected the token {where} (HTTP {status}); set HF_TOKEN to a "
                             "valid token that can write, or run `hf auth login --force`") from None
        raise InputError(f"the Hub at {api.endpoint} failed: {describe(exc, api.endpoint)}") from None
    except Exception as exc:
        raise InputError(f"cannot reach the Hub at {api.endpoint}: {describe(exc, api.endpoint)}") from None
    return api
