"""Nothing in the repository loads pickle: no pickle-format weight files, no unsafe torch.load."""

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", ".git", "__pycache__", ".pytest_cache", ".hypothesis", "test-artifacts", ".gradio", "node_modules"}
PICKLE_SUFFIXES = {".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt"}
TORCH_LOAD = re.compile(r"torch\.load\s*\(")
UNSAFE_CALLS = re.compile(r"\b(pickle|cPickle|dill|joblib)\.loads?\s*\(")


def repo_files():
    for path in REPO_ROOT.rglob("*"):
        if path.is_file() and not SKIP_DIRS.intersection(path.relative_to(REPO_ROOT).parts):
            yield path


def test_no_pickle_files():
    found = [str(p.relative_to(REPO_ROOT)) for p in repo_files() if p.suffix in PICKLE_SUFFIXES]
    assert not found, f"pickle-format files in the repo (ship safetensors instead): {found}"


def test_no_unsafe_loading_in_code():
    offenders = []
    for path in repo_files():
        if path.suffix != ".py" or path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            code = line.split("#", 1)[0]
            if TORCH_LOAD.search(code) and "weights_only=True" not in code:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
            if UNSAFE_CALLS.search(code):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "unpickling code:\n" + "\n".join(offenders)


def test_bundled_weights_are_safetensors():
    weights = REPO_ROOT / "weights"
    files = [p for p in weights.rglob("*") if p.is_file()]
    assert files, "the repo ships trained weights"
    assert {p.suffix for p in files} <= {".safetensors", ".json", ".md", ".onnx"}  # ONNX: protobuf, no code
