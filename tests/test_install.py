"""The package installs: `pip install <checkout>` into a fresh virtual environment, then `vae-zoo` works
from another folder, with the plugins, bundled weights and examples the wheel carries.

Offline and quick: the new environment sees this one's packages (torch, ...) through a .pth file, and
the wheel is built here with the build backend from requirements-dev.txt (no build isolation).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

import zoo

REPO_ROOT = Path(__file__).resolve().parent.parent


def requirement_names(lines) -> dict[str, str]:
    """{normalised name: 'name==version' without extras} for each pinned requirement."""
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        name = re.sub(r"\[.*\]", "", name).strip().lower().replace("_", "-")
        pins[name] = version.strip()
    return pins


def test_pyproject_pins_are_requirements_txt_pins():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    declared = requirement_names(project["dependencies"] + project["optional-dependencies"]["app"])
    assert declared == requirement_names((REPO_ROOT / "requirements.txt").read_text().splitlines())
    assert project["scripts"]["vae-zoo"] == "zoo.__main__:main"


@pytest.mark.skipif(importlib.util.find_spec("pip") is None or importlib.util.find_spec("hatchling") is None,
                    reason="needs pip and hatchling (pip install -r requirements-dev.txt)")
def test_pip_install_into_a_fresh_venv_then_vae_zoo_list(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    new_site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    # This environment's packages (torch, huggingface_hub, hatchling, ...) without installing them again.
    # Its own vae-zoo (editable) is not seen: .pth files inside a folder named by a .pth file are not read.
    (new_site / "_parent_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "ZOO_WEIGHTS_DIR", "ZOO_PLUGIN_PATH", "ZOO_HUB_ORG"}}
    # --ignore-installed: install into the new environment, never touch this one's editable vae-zoo.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-build-isolation", "--ignore-installed", str(REPO_ROOT)],
                   check=True, cwd=tmp_path, env=env, timeout=300)

    where = subprocess.run([python, "-c", "import zoo, zoo.registry as r; print(zoo.__file__); print(r.DATA_ROOT)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=env).stdout.split()
    assert Path(where[0]).is_relative_to(venv), f"zoo imported from {where[0]}, not the installed copy"
    data_root = Path(where[1])
    assert data_root.is_relative_to(venv) and (data_root / "assets" / "examples" / "mnist.safetensors").is_file()

    out = subprocess.run([venv / "bin" / "vae-zoo", "list", "--json"], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert sorted(r["name"] for r in rows) == sorted(zoo.list_models())  # every entry of the checkout, installed
    assert {r["family"] for r in rows} == {"ae", "vae", "cvae"}
    assert all(r["weights"] == f"bundled (weights/{r['name']})" for r in rows), rows
