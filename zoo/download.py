"""Weights from the Hugging Face Hub: which repo holds a model, downloading and verifying it.

This sits below zoo/weights.py, which asks it where a model's files are; publishing and deploying
the app (zoo/publish.py) sit above both.

A zoo entry has a Hub copy when its spec names one (`ModelSpec.hub_repo`, optionally a
pinned `revision` and the `sha256` of model.safetensors) or when an org is set (`ZOO_HUB_ORG`, or
`set_hub_org`): then it lives at `ORG/<model-name>`, as timm's do. `resolve_weights` asks here
(`locate`); `zoo.create_model("hf-hub:OWNER/REPO@REVISION")` asks for any repo (`locate_repo`):

  1. a pinned commit already in the Hugging Face cache is used as is: a commit never changes;
  2. otherwise the Hub is asked which commit the revision is (one HEAD request, `ZOO_HUB_TIMEOUT`
     seconds at most), and missing files are downloaded into the standard cache (`HF_HUB_CACHE`);
  3. when the Hub cannot be used (offline with `HF_HUB_OFFLINE=1`, unreachable, too slow, an HTTP
     error, a file that fails verification): the cached copy, else the bundled one, with one warning.

Every copy is verified: its size against the Hub's, and its sha256 against the spec's (or, when
the spec gives none, against the Hub's LFS hash, which names the cached blob).

The source reads `hub:OWNER/REPO@COMMIT` (the Hub's files at that commit), `cache:OWNER/REPO@COMMIT`
(the Hub could not be asked; the last cached copy, possibly stale) or `bundled (weights/<name>)`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants, get_hf_file_metadata, hf_hub_download, hf_hub_url, try_to_load_from_cache
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.utils.sha import sha_fileobj

from .errors import InputError
from .locations import ARCHITECTURE_KEY, CARD_FILE, CONFIG_FILE, ONNX_FILES, WEIGHTS_FILE, WeightsLocation
from .registry import ModelSpec

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
HUB_PREFIX = "hf-hub:"  # zoo.create_model("hf-hub:OWNER/REPO@REVISION"), as timm's
HUB_REF = re.compile(r"hf-hub:([\w.-]+/[\w.-]+)(?:@([\w./-]+))?")
LIBRARY = "vae-zoo"


class HubUnavailable(RuntimeError):
    """The Hub copy cannot be used right now; the message says why, in a few words.

    `answered`: the Hub said the repo, revision or file is not there (the name is wrong), rather
    than failing to answer."""

    def __init__(self, why: str, answered: bool = False):
        super().__init__(why)
        self.answered = answered


@dataclass(frozen=True)
class _Wanted:
    """A Hub copy to find: a zoo entry's, or any repo's (`config` None: whatever model it holds)."""

    name: str  # for messages: the zoo entry, or "hf-hub:OWNER/REPO"
    repo: str
    revision: str
    sha256: str | None = None  # of model.safetensors, when pinned
    config: str | None = None  # JSON of the constructor arguments its config.json must hold
    architecture: str | None = None  # the family its config.json must name, if it names one


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
        raise InputError(f"hub org {org!r} must be a user or organisation name, e.g. 'vae-zoo'")
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
        raise InputError(f"{TIMEOUT_ENV}={value!r} must be a number of seconds above 0, e.g. 5")
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
    wanted = _Wanted(spec.name, repo, revision, spec.sha256, json.dumps(spec.config), spec.family)
    location, reason = _locate(wanted, fallback)
    if location is None:
        raise FileNotFoundError(
            f"{spec.name}: no weights: the Hub copy {repo}@{revision} cannot be used ({reason}), and there is no "
            f"cached or bundled copy; connect to the Hub, or train it with `python -m zoo train {spec.name}`"
        )
    return location


def parse_hub_ref(ref: str) -> tuple[str, str]:
    """"hf-hub:OWNER/REPO" or "hf-hub:OWNER/REPO@REVISION" -> (repo, revision); InputError otherwise."""
    match = HUB_REF.fullmatch(ref.strip())
    if not match:
        raise InputError(f"{ref!r} is not a Hub model: write it as hf-hub:OWNER/REPO or hf-hub:OWNER/REPO@REVISION, "
                         "e.g. hf-hub:vae-zoo/vae_conv_z16.mnist")
    return match.group(1), match.group(2) or constants.DEFAULT_REVISION


def locate_repo(ref: str) -> WeightsLocation:
    """The snapshot folder of any published repo, `ref` = "hf-hub:OWNER/REPO[@REVISION]", via the HF cache.

    When the Hub cannot be asked, the cached copy is used, with one warning. A repo, revision or
    file the Hub says is not there is an InputError; a Hub that cannot be reached, with nothing
    cached, a FileNotFoundError.
    """
    repo, revision = parse_hub_ref(ref)
    location, reason = _locate(_Wanted(f"{HUB_PREFIX}{repo}", repo, revision), fallback=None)
    if location is None:
        error = InputError if reason.answered else FileNotFoundError
        raise error(f"{HUB_PREFIX}{repo}@{revision}: cannot load it ({reason}), and the Hugging Face cache has no copy; "
                    "check the repo and revision names" + ("" if reason.answered else ", or connect to the Hub"))
    return location


def _locate(wanted: _Wanted, fallback: WeightsLocation | None) -> tuple[WeightsLocation | None, HubUnavailable | None]:
    """(location, None), or (None, why) when there is neither a Hub, cached nor fallback copy."""
    repo, revision = wanted.repo, wanted.revision
    key = (endpoint(), cache_dir(), repo, revision, wanted.sha256, wanted.config)
    now = time.monotonic()
    with _lock:
        if key in _memo and _memo[key][1] > now:
            return _memo[key][0], None

    if COMMIT_HASH.fullmatch(revision):  # a pinned commit never changes: a verified cached copy is the Hub's
        try:
            folder = _cached(wanted)
        except HubUnavailable as exc:  # removed from the cache: downloaded again below
            log.info("%s: %s", wanted.name, exc)
            folder = None
        if folder is not None:
            return _remember(key, WeightsLocation(folder, f"hub:{repo}@{revision}"), ok=True), None

    try:
        folder, commit = _from_hub(wanted, can_wait=fallback is None and not _has_cached(repo, revision))
        return _remember(key, WeightsLocation(folder, f"hub:{repo}@{commit}"), ok=True), None
    except HubUnavailable as exc:
        reason = exc

    try:
        folder = _cached(wanted)
    except HubUnavailable as exc:
        reason, folder = HubUnavailable(f"{reason}; {exc}", reason.answered), None
    if folder is not None:
        location = WeightsLocation(folder, f"cache:{repo}@{folder.name}")
        instead = f"the cached copy of commit {folder.name}"
    elif fallback is not None:
        location, instead = fallback, f"the {fallback.source} copy"
    else:
        return None, reason
    with _lock:
        if key not in _warned:
            _warned.add(key)
            log.warning("%s: cannot use the Hub copy %s@%s (%s); using %s", wanted.name, repo, revision, reason, instead)
    return _remember(key, location, ok=False), None


def _remember(key: tuple, location: WeightsLocation, ok: bool) -> WeightsLocation:
    # A resolved commit stays for the process's life (restart to pick up a new one); a fallback is
    # retried after RETRY_AFTER seconds.
    with _lock:
        _memo[key] = (location, float("inf") if ok else time.monotonic() + RETRY_AFTER)
        if ok:
            _warned.discard(key)
    return location


def _from_hub(wanted: _Wanted, can_wait: bool) -> tuple[Path, str]:
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
        return _with_deadline(lambda: _download(wanted, ep, timeout), None if can_wait else timeout)
    except HubUnavailable:
        raise
    except Exception as exc:
        why = describe(exc, ep, timeout)
        if _is_connectivity(exc):
            with _lock:
                _down[ep] = (time.monotonic() + RETRY_AFTER, why)
        answered = isinstance(exc, HfHubHTTPError) and exc.response is not None and exc.response.status_code in (401, 404)
        raise HubUnavailable(why, answered) from exc


def _download(wanted: _Wanted, ep: str, timeout: float) -> tuple[Path, str]:
    repo, revision = wanted.repo, wanted.revision
    url = hf_hub_url(repo, WEIGHTS_FILE, revision=revision, endpoint=ep)
    meta = get_hf_file_metadata(url, timeout=timeout, endpoint=ep, library_name=LIBRARY)  # no retries: fail fast
    if not meta.commit_hash:
        raise HubUnavailable(f"{ep} did not say which commit {repo}@{revision} is")
    commit = meta.commit_hash
    paths = {}
    optional = (CARD_FILE, *ONNX_FILES)  # the ONNX export lets the page decode live (ui/live.py); a repo may lack it
    for filename in (CONFIG_FILE, WEIGHTS_FILE, *optional):
        try:  # by commit: files already in the cache are not downloaded again
            paths[filename] = Path(hf_hub_download(
                repo, filename, revision=commit, cache_dir=cache_dir(), endpoint=ep, etag_timeout=timeout,
                library_name=LIBRARY,
            ))
        except EntryNotFoundError:
            if filename in optional:
                continue
            raise HubUnavailable(f"{repo}@{commit[:12]} has no {filename}", answered=True) from None
    _verify(paths[WEIGHTS_FILE], f"{repo}@{commit}", size=meta.size,
            sha256=wanted.sha256 or _sha256_etag(meta.etag))
    _check_config(wanted, paths[CONFIG_FILE], f"{repo}@{commit}")
    _remember_ref(repo, revision, commit)
    return paths[WEIGHTS_FILE].parent, commit


def _has_cached(repo: str, revision: str) -> bool:
    path = try_to_load_from_cache(repo, WEIGHTS_FILE, cache_dir=cache_dir(), revision=revision)
    return isinstance(path, str)


def _cached(wanted: _Wanted) -> Path | None:
    """The verified snapshot folder of the wanted repo@revision in the cache, or None. A copy that fails is removed."""
    repo, revision = wanted.repo, wanted.revision
    paths = {}
    for filename in (CONFIG_FILE, WEIGHTS_FILE):
        path = try_to_load_from_cache(repo, filename, cache_dir=cache_dir(), revision=revision)
        if not isinstance(path, str):
            return None
        paths[filename] = Path(path)
    weights = paths[WEIGHTS_FILE]
    blob_name = Path(os.path.realpath(weights)).name  # the cache names an LFS file's blob by its sha256
    _verify(weights, f"the cached {repo}@{weights.parent.name}", size=None,
            sha256=wanted.sha256 or (blob_name if SHA256.fullmatch(blob_name) else None))
    _check_config(wanted, paths[CONFIG_FILE], f"the cached {repo}@{weights.parent.name}")
    return weights.parent


def _verify(path: Path, what: str, size: int | None, sha256: str | None) -> None:
    """Check the file's size and sha256; a file that fails is removed from the cache (HubUnavailable)."""
    actual_size = path.stat().st_size
    problem = None
    if size is not None and actual_size != size:
        problem = f"{path.name} of {what} has {actual_size} bytes, the Hub says {size}"
    elif sha256 is not None:
        digest = sha256_of(path)
        if digest != sha256.lower():
            problem = f"sha256 mismatch: {path.name} of {what} hashes to {digest}, expected {sha256}; rejected"
    if problem:
        _evict(path)
        raise HubUnavailable(problem)


def _check_config(wanted: _Wanted, path: Path, what: str) -> None:
    """A repo holding another architecture (a name clash in the org) is not used: HubUnavailable."""
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise HubUnavailable(f"cannot read config.json of {what}: {exc}") from None
    if not isinstance(config, dict):
        raise HubUnavailable(f"config.json of {what} is not an object of constructor arguments", answered=True)
    if wanted.config is None:  # any model: zoo.weights builds it from the architecture the file names
        return
    if wanted.architecture and config.get(ARCHITECTURE_KEY, wanted.architecture) != wanted.architecture:
        raise HubUnavailable(f"config.json of {what} is another model: an {config[ARCHITECTURE_KEY]!r}, "
                             f"the plugin says {wanted.architecture!r}")
    expected = json.loads(wanted.config)
    found = {key: config.get(key) for key in expected}
    if found != expected:
        raise HubUnavailable(f"config.json of {what} is another model: {found}, the plugin says {expected}")


def sha256_of(path: Path | str) -> str:
    """The file's sha256, hex: what the Hub records for an LFS file, read in blocks by huggingface_hub."""
    with open(path, "rb") as f:
        return sha_fileobj(f).hex()


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


def describe(exc: BaseException, ep: str, timeout: float | None = None) -> str:
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
