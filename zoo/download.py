"""The Hugging Face Hub: publish the zoo's weights, load them back, deploy the app as a Space.

Loading. A zoo entry has a Hub copy when its spec names one (`ModelSpec.hub_repo`, optionally a
pinned `revision` and the `sha256` of model.safetensors) or when an org is set (`ZOO_HUB_ORG`, or
`set_hub_org`): then it lives at `ORG/<model-name>`, as timm's do. `resolve_weights` asks here:

  1. a pinned commit already in the Hugging Face cache is used as is: a commit never changes;
  2. otherwise the Hub is asked which commit the revision is (one HEAD request, `ZOO_HUB_TIMEOUT`
     seconds at most), and missing files are downloaded into the standard cache (`HF_HUB_CACHE`);
  3. when the Hub cannot be used (offline with `HF_HUB_OFFLINE=1`, unreachable, too slow, an HTTP
     error, a file that fails verification): the cached copy, else the bundled one, with one warning.

Every copy is verified: its size against the Hub's, and its sha256 against the spec's (or, when
the spec gives none, against the Hub's LFS hash, which names the cached blob).

The source reads `hub:OWNER/REPO@COMMIT` (the Hub's files at that commit), `cache:OWNER/REPO@COMMIT`
(the Hub could not be asked; the last cached copy, possibly stale) or `bundled (weights/<name>)`.

Publishing uses the token from the usual places (`HF_TOKEN`, then `hf auth login`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import (
    HfApi,
    constants,
    get_hf_file_metadata,
    get_token,
    hf_hub_download,
    hf_hub_url,
    try_to_load_from_cache,
)
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError
from huggingface_hub.file_download import repo_folder_name

from .registry import REPO_ROOT, ModelSpec, get_spec, list_models
from .weights import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, WeightsLocation

log = logging.getLogger(__name__)
for _name in ("httpx2", "httpx"):  # one INFO line per HTTP request would drown the CLI's output, unless asked for
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.WARNING)

HUB_ORG_ENV = "ZOO_HUB_ORG"
TIMEOUT_ENV = "ZOO_HUB_TIMEOUT"
DEFAULT_TIMEOUT = 5.0  # seconds; the files are a few MB, so a working Hub answers well within it
RETRY_AFTER = 60.0  # seconds before a Hub that failed is asked again (in a long-running app)
COMMIT_HASH = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
LIBRARY = "vae-zoo"

# Files of the Space: the app, the library, the plugins, the app's assets, and how to install them.
SPACE_FILES = ["app.py", "requirements.txt", "README.md", "zoo/*", "plugins/*", "assets/*"]
SPACE_WEIGHTS = ["weights/*"]
SPACE_CLASSIFIERS = ["weights/_classifiers/*"]  # not zoo entries, never published as models: always shipped
SPACE_IGNORE = ["*__pycache__*", "*.pyc", "*.tmp", "*.DS_Store"]


class HubUnavailable(RuntimeError):
    """The Hub copy cannot be used right now; the message says why, in a few words."""


# ---------------------------------------------------------------------------------------------
# Settings, read when used (not at import), so tests and the app can change them


_hub_org: str | None = None
_lock = threading.RLock()
_memo: dict[tuple, tuple[WeightsLocation, float]] = {}  # lookup key -> (location, valid until)
_warned: set[tuple] = set()  # lookup keys whose fallback has been warned about
_down: dict[str, tuple[float, str]] = {}  # endpoint -> (unreachable until, why)


def set_hub_org(org: str | None) -> None:
    """Load every zoo entry from `ORG/<model-name>` on the Hub (None: back to `ZOO_HUB_ORG`, if set).

    This is what `python app.py --hub-org ORG` calls. Entries whose spec names a `hub_repo` keep it.
    """
    global _hub_org
    if org is not None and not re.fullmatch(r"[\w.-]+", org):
        raise ValueError(f"hub org {org!r} must be a user or organisation name, e.g. 'vae-zoo'")
    with _lock:
        _hub_org = org
        reset()


def hub_org() -> str | None:
    """The org set by `set_hub_org`, else `ZOO_HUB_ORG`, else None (bundled weights only)."""
    return _hub_org if _hub_org is not None else (os.environ.get(HUB_ORG_ENV) or None)


def repo_for(spec: ModelSpec) -> str | None:
    """The Hub repo holding `spec`'s weights, or None when it has none."""
    if spec.hub_repo:
        return spec.hub_repo
    org = hub_org()
    return f"{org}/{spec.name}" if org else None


def hub_timeout() -> float:
    """Seconds to wait for the Hub before falling back: `ZOO_HUB_TIMEOUT`, default 5."""
    value = os.environ.get(TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise ValueError(f"{TIMEOUT_ENV}={value!r} must be a number of seconds above 0, e.g. 5")
    return seconds


def endpoint() -> str:
    """The Hub's address: `HF_ENDPOINT`, else huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def cache_dir() -> str:
    """The standard Hugging Face cache: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else ~/.cache/huggingface/hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return constants.HF_HUB_CACHE


def offline() -> bool:
    return constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def reset() -> None:
    """Forget what this process learnt about the Hub (resolved commits, failures, warnings given)."""
    with _lock:
        _memo.clear()
        _warned.clear()
        _down.clear()


# ---------------------------------------------------------------------------------------------
# Loading


def locate(spec: ModelSpec, fallback: WeightsLocation | None) -> WeightsLocation:
    """Where `spec`'s weights come from, given that it has a Hub repo; `fallback` is the bundled copy.

    Never raises for the Hub's sake: when it cannot be used, the cached copy, else `fallback`, is
    returned, with one warning. Raises FileNotFoundError only when there is nothing at all.
    """
    repo = repo_for(spec)
    revision = spec.revision or constants.DEFAULT_REVISION
    key = (endpoint(), cache_dir(), repo, revision, spec.sha256)
    now = time.monotonic()
    with _lock:
        if key in _memo and _memo[key][1] > now:
            return _memo[key][0]

    if COMMIT_HASH.fullmatch(revision):  # a pinned commit never changes: a verified cached copy is the Hub's
        try:
            folder = _cached(repo, revision, spec)
        except HubUnavailable as exc:  # removed from the cache: downloaded again below
            log.info("%s: %s", spec.name, exc)
            folder = None
        if folder is not None:
            return _remember(key, WeightsLocation(folder, f"hub:{repo}@{revision}"), ok=True)

    try:
        folder, commit = _from_hub(spec, repo, revision, can_wait=fallback is None and not _has_cached(repo, revision))
        return _remember(key, WeightsLocation(folder, f"hub:{repo}@{commit}"), ok=True)
    except HubUnavailable as exc:
        reason = str(exc)

    try:
        folder = _cached(repo, revision, spec)
    except HubUnavailable as exc:
        reason, folder = f"{reason}; {exc}", None
    if folder is not None:
        location = WeightsLocation(folder, f"cache:{repo}@{folder.name}")
        instead = f"the cached copy of commit {folder.name}"
    elif fallback is not None:
        location, instead = fallback, f"the {fallback.source} copy"
    else:
        raise FileNotFoundError(
            f"{spec.name}: no weights: the Hub copy {repo}@{revision} cannot be used ({reason}), and there is no "
            f"cached or bundled copy; connect to the Hub, or train it with `python -m zoo train {spec.name}`"
        )
    with _lock:
        if key not in _warned:
            _warned.add(key)
            log.warning("%s: cannot use the Hub copy %s@%s (%s); using %s", spec.name, repo, revision, reason, instead)
    return _remember(key, location, ok=False)


def _remember(key: tuple, location: WeightsLocation, ok: bool) -> WeightsLocation:
    # A resolved commit stays for the process's life (restart to pick up a new one); a fallback is
    # retried after RETRY_AFTER seconds.
    with _lock:
        _memo[key] = (location, float("inf") if ok else time.monotonic() + RETRY_AFTER)
        if ok:
            _warned.discard(key)
    return location


def _from_hub(spec: ModelSpec, repo: str, revision: str, can_wait: bool) -> tuple[Path, str]:
    """Ask the Hub, download what the cache lacks, verify; (snapshot folder, commit). Raises HubUnavailable."""
    if offline():
        raise HubUnavailable("offline: HF_HUB_OFFLINE is set")
    ep = endpoint()
    with _lock:
        until, why = _down.get(ep, (0.0, ""))
    if until > time.monotonic():
        raise HubUnavailable(why)
    timeout = hub_timeout()
    try:
        # The worker thread bounds the whole exchange: the client's own retries (a stalled download
        # is resumed five times) must not hold the app. Without a copy to fall back on, waiting is
        # better than failing, so then it waits as long as the client tries.
        return _with_deadline(lambda: _download(spec, repo, revision, ep, timeout), None if can_wait else timeout)
    except HubUnavailable:
        raise
    except Exception as exc:
        why = _describe(exc, ep, timeout)
        if _is_connectivity(exc):
            with _lock:
                _down[ep] = (time.monotonic() + RETRY_AFTER, why)
        raise HubUnavailable(why) from exc


def _download(spec: ModelSpec, repo: str, revision: str, ep: str, timeout: float) -> tuple[Path, str]:
    url = hf_hub_url(repo, WEIGHTS_FILE, revision=revision, endpoint=ep)
    meta = get_hf_file_metadata(url, timeout=timeout, endpoint=ep, library_name=LIBRARY)  # no retries: fail fast
    if not meta.commit_hash:
        raise HubUnavailable(f"{ep} did not say which commit {repo}@{revision} is")
    commit = meta.commit_hash
    paths = {}
    for filename in (CONFIG_FILE, WEIGHTS_FILE, CARD_FILE):
        try:  # by commit: files already in the cache are not downloaded again
            paths[filename] = Path(hf_hub_download(
                repo, filename, revision=commit, cache_dir=cache_dir(), endpoint=ep, etag_timeout=timeout,
                library_name=LIBRARY,
            ))
        except EntryNotFoundError:
            if filename == CARD_FILE:
                continue
            raise HubUnavailable(f"{repo}@{commit[:12]} has no {filename}") from None
    _verify(paths[WEIGHTS_FILE], f"{repo}@{commit}", size=meta.size,
            sha256=spec.sha256 or _sha256_etag(meta.etag))
    _check_config(spec, paths[CONFIG_FILE], f"{repo}@{commit}")
    _remember_ref(repo, revision, commit)
    return paths[WEIGHTS_FILE].parent, commit


def _has_cached(repo: str, revision: str) -> bool:
    path = try_to_load_from_cache(repo, WEIGHTS_FILE, cache_dir=cache_dir(), revision=revision)
    return isinstance(path, str)


def _cached(repo: str, revision: str, spec: ModelSpec) -> Path | None:
    """The verified snapshot folder of `repo@revision` in the cache, or None. A copy that fails is removed."""
    paths = {}
    for filename in (CONFIG_FILE, WEIGHTS_FILE):
        path = try_to_load_from_cache(repo, filename, cache_dir=cache_dir(), revision=revision)
        if not isinstance(path, str):
            return None
        paths[filename] = Path(path)
    weights = paths[WEIGHTS_FILE]
    blob_name = Path(os.path.realpath(weights)).name  # the cache names an LFS file's blob by its sha256
    _verify(weights, f"the cached {repo}@{weights.parent.name}", size=None,
            sha256=spec.sha256 or (blob_name if SHA256.fullmatch(blob_name) else None))
    _check_config(spec, paths[CONFIG_FILE], f"the cached {repo}@{weights.parent.name}")
    return weights.parent


def _verify(path: Path, what: str, size: int | None, sha256: str | None) -> None:
    """Check the file's size and sha256; a file that fails is removed from the cache (HubUnavailable)."""
    actual_size = path.stat().st_size
    problem = None
    if size is not None and actual_size != size:
        problem = f"{path.name} of {what} has {actual_size} bytes, the Hub says {size}"
    elif sha256 is not None:
        digest = _sha256(path)
        if digest != sha256.lower():
            problem = f"sha256 mismatch: {path.name} of {what} hashes to {digest}, expected {sha256}; rejected"
    if problem:
        _evict(path)
        raise HubUnavailable(problem)


def _check_config(spec: ModelSpec, path: Path, what: str) -> None:
    """A repo holding another architecture (a name clash in the org) is not used: HubUnavailable."""
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise HubUnavailable(f"cannot read config.json of {what}: {exc}") from None
    expected = json.loads(json.dumps(spec.config))  # tuples -> lists, as in the file
    found = {key: config.get(key) for key in expected}
    if found != expected:
        raise HubUnavailable(f"config.json of {what} is another model: {found}, the plugin says {expected}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_etag(etag: str | None) -> str | None:
    # The Hub's ETag of an LFS file (model.safetensors is one) is its sha256; a git file's is a sha1.
    return etag if etag and SHA256.fullmatch(etag) else None


def _evict(path: Path) -> None:
    blob = Path(os.path.realpath(path))
    for p in {path, blob}:
        try:
            p.unlink()
        except OSError:
            pass


def _remember_ref(repo: str, revision: str, commit: str) -> None:
    # Files are fetched by commit, so record which commit the branch was, as the client does, for offline use.
    if revision == commit:
        return
    ref = Path(cache_dir()) / repo_folder_name(repo_id=repo, repo_type="model") / "refs" / revision
    try:
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(commit)
    except OSError as exc:
        log.debug("could not record %s@%s in the cache: %s", repo, revision, exc)


def _with_deadline(fn, seconds: float | None):
    """fn() in a daemon thread; TimeoutError if it takes longer than `seconds` (it goes on, into the cache)."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name="zoo-hub-download", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _is_connectivity(exc: BaseException) -> bool:
    if isinstance(exc, HfHubHTTPError):
        return exc.response is not None and exc.response.status_code >= 500
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(names & {"TransportError", "TimeoutException", "TimeoutError", "ConnectError", "NetworkError"})


def _describe(exc: BaseException, ep: str, timeout: float | None = None) -> str:
    """A few words on why the Hub failed, for the one warning or error."""
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"TimeoutException", "TimeoutError"}:
        return f"{ep} did not answer within {timeout:g} s ({TIMEOUT_ENV})" if timeout else f"{ep} did not answer in time"
    if names & {"ConnectError", "NetworkError", "TransportError"}:
        return f"cannot connect to {ep}"
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        kind = {"RepositoryNotFoundError": "repository not found", "RevisionNotFoundError": "revision not found",
                "RemoteEntryNotFoundError": "file not found"}.get(type(exc).__name__, exc.response.reason_phrase)
        said = (exc.server_message or "").strip().splitlines()
        return f"HTTP {status}: {kind}" + (f" ({said[0]})" if said and said[0].lower() != str(kind).lower() else "")
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


# ---------------------------------------------------------------------------------------------
# Publishing


@dataclass(frozen=True)
class Published:
    name: str
    repo_id: str
    commit: str  # pin it: ModelSpec(..., hub_repo=repo_id, revision=commit, sha256=sha256)
    url: str
    sha256: str  # of model.safetensors


def publish(name: str, *, repo_id: str | None = None, org: str | None = None, private: bool | None = None,
            token: str | None = None, allow_unmeasured: bool = False) -> Published:
    """Upload `name`'s bundled config.json, model.safetensors and model card to `repo_id` (default ORG/<name>).

    The repo is created if needed. The card is re-rendered for the Hub: metrics as model-index eval
    results, dataset, recipe, license, tags, and a loading snippet for this repo. An unchanged upload
    makes no new commit. Token: `token`, else HF_TOKEN, else `hf auth login`.
    """
    from .cards import read_record, render_card

    spec = get_spec(name)
    org = org or hub_org()
    if repo_id is None:
        if not org:
            raise ValueError(f"where to publish {name}? pass --org ORG (or --repo-id OWNER/NAME), or set {HUB_ORG_ENV}")
        repo_id = f"{org}/{name}"
    folder = spec.bundled_dir
    for filename in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / filename).is_file():
            raise FileNotFoundError(f"{name}: no {folder / filename} to publish; train it with `python -m zoo train {name}`")
    record = read_record(folder)
    if not record.get("metrics") and not allow_unmeasured:
        raise ValueError(f"{name}: its card has no metrics yet, so the Hub card would have no eval results; "
                         f"run `python -m zoo eval {name}` first (or pass --allow-unmeasured)")
    api = _authenticated_api(token)
    with tempfile.TemporaryDirectory(prefix="zoo-publish-") as staging, _as_value_error(f"publishing {name} to {repo_id}"):
        api.create_repo(repo_id, private=private, exist_ok=True)
        for filename in (CONFIG_FILE, WEIGHTS_FILE):
            shutil.copyfile(folder / filename, Path(staging) / filename)
        render_card(spec, record, hub_repo=repo_id).save(Path(staging) / CARD_FILE)
        info = api.upload_folder(repo_id=repo_id, folder_path=staging, commit_message=f"Publish {name} with vae-zoo")
    url = f"{api.endpoint}/{repo_id}"
    return Published(name, repo_id, info.oid, url, _sha256(folder / WEIGHTS_FILE))


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
            raise ValueError(f"the Space would load its weights from {hub_org}, which lacks {', '.join(missing)}; "
                             f"publish them first: python -m zoo publish --all --org {hub_org}")
    with _as_value_error(f"deploying the Space {space_id}"):
        url = api.create_repo(space_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
        shipped = SPACE_FILES + (SPACE_CLASSIFIERS if hub_org else SPACE_WEIGHTS)
        # Files under the shipped folders that are gone locally (or weights now loaded from the Hub) are removed.
        api.upload_folder(repo_id=space_id, repo_type="space", folder_path=root, allow_patterns=shipped,
                          ignore_patterns=SPACE_IGNORE, delete_patterns=["zoo/*", "plugins/*", "assets/*", "weights/*"],
                          commit_message="Deploy vae-zoo" + (f" (weights from {hub_org})" if hub_org else ""))
        if hub_org:
            api.add_space_variable(space_id, HUB_ORG_ENV, hub_org, description="load the zoo's weights from this Hub org")
        elif HUB_ORG_ENV in api.get_space_variables(space_id):
            api.delete_space_variable(space_id, HUB_ORG_ENV)
    return str(url)


@contextmanager
def _as_value_error(doing: str):
    """Hub errors while writing become ValueErrors that say what failed, for the CLI to print."""
    try:
        yield
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        hint = "; does the token have write access to that namespace?" if status in (401, 403) else ""
        raise ValueError(f"{doing}: the Hub answered {_describe(exc, endpoint())}{hint}") from None
    except ValueError:
        raise
    except Exception as exc:  # the network, mostly: say what, not a traceback
        raise ValueError(f"{doing}: {_describe(exc, endpoint())}") from None


def _authenticated_api(token: str | None) -> HfApi:
    """An HfApi for writing, whose token is known to work: a missing or rejected token is a ValueError."""
    token = token or get_token()
    if not token:
        raise ValueError("no Hugging Face token: set HF_TOKEN, or run `hf auth login`, with a token that can write "
                         "(https://huggingface.co/settings/tokens)")
    from . import __version__

    api = HfApi(endpoint=endpoint(), token=token, library_name=LIBRARY, library_version=__version__)
    try:
        api.whoami()
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            where = "from HF_TOKEN" if token == os.environ.get("HF_TOKEN") else "given"
            raise ValueError(f"the Hub at {api.endpoint} rejected the token {where} (HTTP {status}); set HF_TOKEN to a "
                             "valid token that can write, or run `hf auth login --force`") from None
        raise ValueError(f"the Hub at {api.endpoint} failed: {_describe(exc, api.endpoint)}") from None
    except Exception as exc:
        raise ValueError(f"cannot reach the Hub at {api.endpoint}: {_describe(exc, api.endpoint)}") from None
    return api
