"""A small Hugging Face Hub for the tests: the HTTP endpoints huggingface_hub's client calls.

Point `HF_ENDPOINT` (or `endpoint=`) at `HubServer.start()` and the real client works against it:

  GET  /api/whoami-v2                                        who the token belongs to
  POST /api/repos/create                                     409 when it exists
  POST /api/validate-yaml                                    the README front matter must parse
  GET  /api/{models,spaces}/REPO[/revision/REV]              repo info (sha, siblings)
  GET  /api/{models,spaces}/REPO/tree/REV[/PATH]             file listing
  POST /api/{models,spaces}/REPO/preupload/REV               every file goes "regular" (inline)
  POST /api/{models,spaces}/REPO/commit/REV                  NDJSON: header, file, deletedFile, deletedFolder
  GET|POST|DELETE /api/spaces/REPO/variables                 Space variables
  HEAD|GET [/spaces]/REPO/resolve/REV/PATH                   ETag, X-Repo-Commit, Content-Length, Range
  HEAD|GET /cdn/SHA256/NAME                                  LFS files' content, on another host name

Errors carry the Hub's `X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound), so the
client raises its own error types. `fail()` injects faults (a status, a delay, a corrupted body)
on matching paths, and every request is logged in `requests` so tests can count them.

Files are stored whole in memory. LFS files (*.safetensors) are answered as the Hub does: `resolve`
redirects (302) to a CDN address on another host name (localhost instead of 127.0.0.1, so the
client treats it as off-Hub), with the sha256 as X-Linked-Etag and the size as X-Linked-Size; other
files are served directly, with their git blob sha1 as ETag.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
LFS_SUFFIXES = (".safetensors", ".bin", ".pt")
TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
REPO = r"(?P<repo>[^/]+/[^/]+)"
KIND = r"(?P<kind>models|datasets|spaces)"
NOW = "2026-01-01T00:00:00.000Z"


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    message: str
    files: dict[str, bytes]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool = False
    sdk: str | None = None
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    variables: dict[str, dict] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision, revision)
        return self.commits.get(oid)


@dataclass
class Fault:
    pattern: re.Pattern
    method: str | None
    status: int | None
    delay: float
    corrupt: bool
    times: int | None  # None: every matching request


class HubServer:
    def __init__(self, token: str = "hf_test_write_token", user: str = "tester"):
        self.tokens = {token: user}
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.blobs: dict[str, bytes] = {}  # sha256 -> content of LFS files, served by /cdn/
        self.requests: list[tuple[str, str]] = []  # (method, path), in order
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self._counter = 0
        self._httpd: ThreadingHTTPServer | None = None
        self.url = ""

    # -- lifecycle

    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"hub": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="hubserver", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # -- test helpers

    def fail(self, pattern: str = ".*", *, status: int | None = None, delay: float = 0.0, corrupt: bool = False,
             method: str | None = None, times: int | None = None) -> None:
        """Make requests whose path matches `pattern` (re.search) answer `status`, after `delay` s, or corrupted."""
        with self._lock:
            self.faults.append(Fault(re.compile(pattern), method, status, delay, corrupt, times))

    def heal(self) -> None:
        with self._lock:
            self.faults.clear()

    def count(self, method: str | None = None, path: str = "") -> int:
        """Requests so far with this method (any if None) whose path contains `path`."""
        with self._lock:
            return sum(1 for m, p in self.requests if (method is None or m == method) and path in p)

    def repo(self, repo_id: str, repo_type: str = "model") -> Repo | None:
        return self.repos.get((repo_type, repo_id))

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> dict[str, bytes]:
        return dict(self.repos[(repo_type, repo_id)].resolve(revision).files)

    def create_repo(self, repo_id: str, repo_type: str = "model", private: bool = False, sdk: str | None = None) -> Repo:
        with self._lock:
            repo = Repo(repo_type, repo_id, private, sdk)
            self.repos[(repo_type, repo_id)] = repo
            self.commit(repo, "initial commit", {".gitattributes": GITATTRIBUTES}, [])
            return repo

    def commit(self, repo: Repo, message: str, added: dict[str, bytes], deleted: list[str], branch: str = "main") -> str:
        with self._lock:
            head = repo.branches.get(branch)
            files = dict(repo.commits[head].files) if head else {}
            for path in deleted:
                files.pop(path, None)
            files.update(added)
            self.blobs.update({hashlib.sha256(d).hexdigest(): d for p, d in added.items() if p.endswith(LFS_SUFFIXES)})
            self._counter += 1
            digest = hashlib.sha1(f"{repo.repo_id}\n{head}\n{message}\n{self._counter}".encode())
            for path in sorted(files):
                digest.update(path.encode() + git_sha1(files[path]).encode())
            oid = digest.hexdigest()
            repo.commits[oid] = Commit(oid, message, files)
            repo.branches[branch] = oid
            return oid


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet
        pass

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # -- plumbing

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, self.query = unquote(parts.path), parse_qs(parts.query)
        self.body = self._read_body()
        hub = self.hub
        with hub._lock:
            hub.requests.append((method, path))
            fault = next((f for f in hub.faults if (f.method in (None, method)) and f.pattern.search(path)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    hub.faults.remove(fault)
        self.corrupt = False
        if fault is not None:
            time.sleep(fault.delay)
            if fault.status is not None:
                return self._error(fault.status, f"injected fault {fault.status}")
            self.corrupt = fault.corrupt
        for verb, pattern, handler in ROUTES:
            match = re.fullmatch(pattern, path)
            if match and method in verb:
                try:
                    return handler(self, method, **match.groupdict())
                except (BrokenPipeError, ConnectionResetError):
                    return
        self._error(404, f"no route for {method} {path}")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip(), 16)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if size == 0:
                    return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self):
        return json.loads(self.body or b"{}")

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head_only: bool = False) -> None:
        self.send_response(status)
        headers = {"Content-Type": "application/json", **(headers or {})}
        headers.setdefault("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _json(self, data, status: int = 200) -> None:
        self._send(status, json.dumps(data).encode())

    def _error(self, status: int, message: str, code: str | None = None, headers: dict | None = None) -> None:
        extra = {"X-Error-Message": message, **(headers or {})}
        if code:
            extra["X-Error-Code"] = code
        self._send(status, json.dumps({"error": message}).encode(), extra, head_only=self.command == "HEAD")

    def _user(self, required: bool) -> str | None:
        """The token's user; sends 401 and returns "" when a token is wrong, or missing and `required`."""
        auth = self.headers.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        if token is None:
            if required:
                self._error(401, "Invalid credentials in Authorization header")
                return ""
            return None
        user = self.hub.tokens.get(token)
        if user is None:
            self._error(401, "Invalid credentials in Authorization header")
            return ""
        return user

    def _repo(self, kind: str, repo_id: str, user: str | None) -> Repo | None:
        repo = self.hub.repo(repo_id, TYPES[kind])
        if repo is None or (repo.private and not user):
            self._error(404, "Repository not found", "RepoNotFound")
            return None
        return repo

    def _commit(self, repo: Repo, revision: str) -> Commit | None:
        commit = repo.resolve(revision)
        if commit is None:
            self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    def _repo_url(self, repo: Repo) -> str:
        return f"{self.hub.url}/{URL_PREFIX[repo.repo_type]}{repo.repo_id}"

    # -- endpoints

    def whoami(self, method):
        user = self._user(required=True)
        if user:
            self._json({"type": "user", "name": user, "fullname": user, "orgs": [],
                        "auth": {"type": "access_token", "accessToken": {"displayName": "tests", "role": "write"}}})

    def create_repo(self, method):
        user = self._user(required=True)
        if not user:
            return
        payload = self._json_body()
        repo_type = payload.get("type") or "model"
        repo_id = f"{payload.get('organization') or user}/{payload['name']}"
        if (existing := self.hub.repo(repo_id, repo_type)) is not None:
            return self._json({"error": f"You already created this {repo_type} repo", "url": self._repo_url(existing)}, 409)
        repo = self.hub.create_repo(repo_id, repo_type, bool(payload.get("private")) or payload.get("visibility") == "private",
                                    payload.get("sdk"))
        self._json({"url": self._repo_url(repo), "name": repo_id, "id": repo_id})

    def validate_yaml(self, method):
        content = self._json_body().get("content", "")
        match = re.match(r"^---\n(.*?)\n---\n", content, re.S)
        try:
            if match:
                yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            return self._json({"errors": [{"message": str(exc)}], "warnings": []}, 400)
        self._json({"errors": [], "warnings": []})

    def info(self, method, kind, repo, rev=None):
        user = self._user(required=False)
        if user == "" or (r := self._repo(kind, repo, user)) is None or (c := self._commit(r, rev or "main")) is None:
            return
        data = {"id": r.repo_id, "sha": c.oid, "private": r.private, "lastModified": NOW, "tags": [],
                "siblings": [{"rfilename": p, "size": len(d)} for p, d in sorted(c.files.items())]}
        if r.repo_type == "model":
            data["modelId"] = r.repo_id
        if r.repo_type == "space":
            data["sdk"] = r.sdk
        self._json(data)

    def tree(self, method, kind, repo, rev, path=None):
        user = self._user(required=False)
        if user == "" or (r := self._repo(kind, repo, user)) is None or (c := self._commit(r, rev)) is None:
            return
        prefix = f"{path.strip('/')}/" if path else ""
        recursive = self.query.get("recursive", ["false"])[0].lower() == "true"
        entries, folders = [], set()
        for name, data in sorted(c.files.items()):
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):]
            if "/" in rest and not recursive:
                folders.add(prefix + rest.split("/")[0])
                continue
            entry = {"type": "file", "path": name, "size": len(data), "oid": git_sha1(data)}
            if name.endswith(LFS_SUFFIXES):
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            entries.append(entry)
        entries += [{"type": "directory", "path": f, "oid": hashlib.sha1(f.encode()).hexdigest()} for f in sorted(folders)]
        self._json(entries)

    def preupload(self, method, kind, repo, rev):
        user = self._user(required=True)
        if not user or (r := self._repo(kind, repo, user)) is None:
            return
        current = r.resolve(rev)
        existing = current.files if current else {}
        files = []
        for item in self._json_body().get("files", []):
            entry = {"path": item["path"], "uploadMode": "regular", "shouldIgnore": False}
            if item["path"] in existing:
                entry["oid"] = git_sha1(existing[item["path"]])
            files.append(entry)
        self._json({"files": files, "commitOid": current.oid if current else None})

    def commit(self, method, kind, repo, rev):
        user = self._user(required=True)
        if not user or (r := self._repo(kind, repo, user)) is None:
            return
        head = r.resolve(rev)
        if head is None and rev in r.branches:
            return self._error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        added, deleted, message = {}, [], ""
        for line in self.body.decode().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                message = value.get("summary", "")
                if value.get("parentCommit") and head and value["parentCommit"] != head.oid:
                    return self._error(412, "A commit has happened since. Please refresh and try again.")
            elif key == "file":
                content = value["content"]
                added[value["path"]] = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
            elif key == "deletedFile":
                if head is None or value["path"] not in head.files:
                    return self._error(404, "A file with this name doesn't exist", "EntryNotFound")
                deleted.append(value["path"])
            elif key == "deletedFolder":
                folder = value["path"].rstrip("/") + "/"
                deleted += [p for p in (head.files if head else {}) if p.startswith(folder)]
            else:
                return self._error(400, f"this test Hub takes files inline only, not {key!r}")
        oid = self.hub.commit(r, message, added, deleted, branch=rev)
        self._json({"success": True, "commitOid": oid, "commitUrl": f"{self._repo_url(r)}/commit/{oid}", "hookOutput": ""})

    def variables(self, method, repo):
        user = self._user(required=True)
        if not user or (r := self._repo("spaces", repo, user)) is None:
            return
        if method == "POST":
            payload = self._json_body()
            r.variables[payload["key"]] = {"value": payload["value"], "description": payload.get("description"),
                                           "updatedAt": NOW}
        elif method == "DELETE":
            r.variables.pop(self._json_body()["key"], None)
        self._json(r.variables)

    def resolve(self, method, repo, rev, path, prefix=None):
        kind = {None: "models", "datasets": "datasets", "spaces": "spaces"}[prefix]
        user = self._user(required=False)
        if user == "" or (r := self._repo(kind, repo, user)) is None or (c := self._commit(r, rev)) is None:
            return
        if path not in c.files:
            return self._error(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": c.oid})
        data = c.files[path]
        if path.endswith(LFS_SUFFIXES):
            oid = hashlib.sha256(data).hexdigest()
            port = self.hub.url.rsplit(":", 1)[1]
            headers = {"Location": f"http://localhost:{port}/cdn/{oid}/{path.rsplit('/', 1)[-1]}", "X-Repo-Commit": c.oid,
                       "X-Linked-Etag": f'"{oid}"', "X-Linked-Size": str(len(data)), "ETag": f'"{git_sha1(data)}"'}
            return self._send(302, b"", headers, head_only=method == "HEAD")
        self._serve(method, data, {"X-Repo-Commit": c.oid, "ETag": f'"{git_sha1(data)}"'})

    def cdn(self, method, oid, name):
        data = self.hub.blobs.get(oid)
        if data is None:
            return self._error(404, "NoSuchKey")
        self._serve(method, data, {"ETag": f'"{oid}"'})

    def _serve(self, method: str, data: bytes, headers: dict) -> None:
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", **headers}
        status, body = 200, data
        if self.corrupt:
            body = bytes(b ^ 0xFF for b in data[:64]) + data[64:]  # same size, different bytes
        ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if ranged and method == "GET":
            start, end = int(ranged.group(1)), int(ranged.group(2) or len(data) - 1)
            body, status = body[start:end + 1], 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        headers["Content-Length"] = str(len(body))
        self._send(status, body, headers, head_only=method == "HEAD")


ROUTES = [
    ({"GET"}, r"/api/whoami-v2", _Handler.whoami),
    ({"POST"}, r"/api/repos/create", _Handler.create_repo),
    ({"POST"}, r"/api/validate-yaml", _Handler.validate_yaml),
    ({"GET", "POST", "DELETE"}, rf"/api/spaces/{REPO}/variables", _Handler.variables),
    ({"POST"}, rf"/api/{KIND}/{REPO}/preupload/(?P<rev>[^/]+)", _Handler.preupload),
    ({"POST"}, rf"/api/{KIND}/{REPO}/commit/(?P<rev>[^/]+)", _Handler.commit),
    ({"GET"}, rf"/api/{KIND}/{REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", _Handler.tree),
    ({"GET"}, rf"/api/{KIND}/{REPO}(?:/revision/(?P<rev>[^/]+))?", _Handler.info),
    ({"GET", "HEAD"}, rf"/(?:(?P<prefix>datasets|spaces)/)?{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)", _Handler.resolve),
    ({"GET", "HEAD"}, r"/cdn/(?P<oid>[0-9a-f]{64})/(?P<name>[^/]+)", _Handler.cdn),
]


if __name__ == "__main__":  # a local Hub to try the commands on: python tests/hubserver.py
    server = HubServer()
    print(f"HF_ENDPOINT={server.start()} HF_TOKEN={server.token}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
