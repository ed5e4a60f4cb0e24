"""The README's examples, run as written where they can run offline.

Code blocks are found by the heading of their section, so the tests follow the README: change an
example there and the test runs the new one. Not run: the quick start's installs (they need the
internet), training, publishing and deploying (they need the Hub or minutes of CPU).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.demo import LINKS, ZooView, load_examples, read_link

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
APP_LINE = re.compile(r"^\s*python app\.py\b.*$", re.MULTILINE)


def section(heading: str) -> str:
    """The text under `## heading`, up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", README, re.MULTILINE | re.DOTALL)
    assert match, f"README has no section {heading!r}"
    return match.group(1)


def code_blocks(heading: str, lang: str) -> list[str]:
    """The ```lang blocks of a section, in order."""
    return re.findall(rf"^```{lang}\n(.*?)^```", section(heading), re.MULTILINE | re.DOTALL)


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def app_help() -> str:
    """`python app.py --help`, as the README's usage line describes it."""
    done = run(sys.executable, "app.py", "--help")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_python_api_block_runs():
    (block,) = code_blocks("Python API", "python")
    scope: dict = {}
    exec(compile(block, "README.md: Python API", "exec"), scope)
    model, x, images = scope["model"], scope["x"], scope["images"]
    assert images.shape == x.shape == (8, 1, 28, 28)
    assert 0 <= images.min() and images.max() <= 1
    assert scope["posterior"].mean.shape == (8, model.latent_dim)
    assert scope["z"].shape == (8, model.latent_dim)
    assert float(scope["total"].mean()) > 0


def test_zoo_list_commands_run():
    """`python -m zoo list` (the Command line section's usage, optional parts left out) and `vae-zoo list --json`."""
    (block,) = code_blocks("Command line", "bash")
    usage = next(line for line in block.splitlines() if line.startswith("python -m zoo list"))
    command = re.sub(r"\[[^\]]*\]", "", usage.split("#")[0]).split()
    assert command == ["python", "-m", "zoo", "list"]
    done = run(sys.executable, *command[1:])
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in zoo.list_models())

    assert "`vae-zoo list --json`" in section("Command line")
    done = run(str(Path(sys.executable).parent / "vae-zoo"), "list", "--json")
    assert done.returncode == 0, done.stderr
    assert sorted(entry["name"] for entry in json.loads(done.stdout)) == zoo.list_models()


def test_app_flags_in_readme_match_the_parser(app_help):
    parser_flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", app_help)) - {"--help"}
    shown = {flag for line in APP_LINE.findall(README) for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line.split("#")[0])}
    assert shown <= parser_flags, f"the README shows flags app.py does not have: {shown - parser_flags}"
    usage = next(line for line in APP_LINE.findall(section("The app")) if "[--" in line)
    missing = {flag for flag in parser_flags if flag not in usage}
    assert not missing, f"the README's usage line lacks {missing}"


def test_models_example_matches_only_the_mnist_models():
    line = next(line for line in APP_LINE.findall(README) if "only the MNIST models" in line)
    pattern = re.search(r"--models '([^']+)'", line).group(1)
    assert zoo.list_models(pattern) == sorted(n for n in zoo.list_models() if zoo.get_spec(n).dataset == "mnist")


def test_limits_stated_in_the_readme_are_the_apps():
    import app
    from zoo import InputError
    from zoo.demo import images

    text = " ".join(section("The app").split())
    assert "up to 5 MB" in text and app.MAX_FILE_SIZE == "5mb"
    assert "Two requests run at a time" in text and app.CONCURRENCY == 2
    assert "up to 128 more wait" in text and app.QUEUE_SIZE == 128
    assert f"up to {images.MAX_PIXELS // 1_000_000} megapixels" in text
    assert f"between {images.MIN_SIDE} and {images.MAX_SIDE} pixels" in text
    accepted = re.search(r"(\d+)×(\d+) is accepted", text).groups()
    refused = re.search(r"(\d+)×(\d+) is refused", text).groups()
    images._check_size(*map(int, accepted))
    with pytest.raises(InputError, match="too large"):
        images._check_size(*map(int, refused))


@pytest.mark.parametrize("query", [
    "tab=reconstruct&dataset=nope&models=vae_conv_z2.mnist&a=3&label=7",
    "tab=latent_map&dataset=nope&left=vae_conv_z2.mnist&right=ae_conv_z2.mnist",
    "tab=interpolate&model=nope&a=99999&b=x&path=spherical",
])
def test_reading_a_link_never_fails(query):
    """The README: a setting the app cannot use is left out with a note, and the rest is restored."""
    tab, params, notes = read_link(dict(pair.split("=", 1) for pair in query.split("&")))
    kept, more = LINKS[tab].clean(ZooView(), params)
    assert notes + more  # each dropped setting says why
    assert "dataset" not in kept and "model" not in kept


def test_the_readme_link_restores_without_notes():
    link = re.search(r"`/\?(tab=interpolate[^`]*)`", section("The app")).group(1)
    tab, params, notes = read_link(dict(pair.split("=", 1) for pair in link.split("&")))
    kept, more = LINKS[tab].clean(ZooView(), params)
    assert not notes + more and kept == params


def test_gradio_client_snippet_runs(app_url, tmp_path, monkeypatch):
    (block,) = code_blocks("Scripting with gradio_client", "python")
    assert 'Client("http://127.0.0.1:7860/")' in block
    block = block.replace("http://127.0.0.1:7860/", app_url)
    digit = load_examples("mnist").images[0]
    Image.fromarray((np.kron(digit, np.ones((4, 4))) * 255).astype(np.uint8)).save(tmp_path / "my_digit.png")
    monkeypatch.chdir(tmp_path)  # the snippet's handle_file("my_digit.png")
    scope: dict = {}
    exec(compile(block, "README.md: Scripting with gradio_client", "exec"), scope)
    assert Path(scope["grid"]).is_file() and Path(scope["a"]).is_file()
    assert len(scope["row"]) == len(zoo.get_spec("cvae_conv_z16.fashion_mnist").label_names)
    rows = scope["table"]["data"]
    assert {row[0] for row in rows} == {n for n in zoo.list_models("*.mnist") if not zoo.get_spec(n).study}
