"""Training under torchrun: 2 CPU processes (gloo) end with the weights of 1 process with the same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

import zoo

SCRIPT = textwrap.dedent("""
    import sys, torch
    from zoo.train import train
    sys.path.insert(0, {tests!r})
    from test_train import tiny_split

    train("ae_conv_z2.mnist", epochs=2, out=sys.argv[1], train_split=tiny_split(256), test_split=tiny_split(64, 1),
          progress=False, data_source="synthetic blobs")
""")


def run(tmp_path, processes: int) -> dict:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(tests=os.path.dirname(__file__)))
    out = tmp_path / f"out{processes}"
    root = os.path.dirname(os.path.dirname(zoo.__file__))  # the zoo under test, whichever checkout it is
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ZOO_DEVICE": "cpu",
           "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", str(script), str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return load_file(out / "model.safetensors"), (out / "README.md").read_text()


@pytest.mark.timeout(300)
def test_two_gloo_processes_train_the_weights_of_one(tmp_path):
    one, _ = run(tmp_path, 1)
    two, card = run(tmp_path, 2)
    assert one.keys() == two.keys()
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=0, atol=1e-5, msg=key)
    assert "processes: 2" in card  # the card records the run
    torch.manual_seed(0)  # the recipe's seed: the weights both runs started from
    start = zoo.get_spec("ae_conv_z2.mnist").model_class()(**zoo.get_spec("ae_conv_z2.mnist").config).state_dict()
    assert max((start[k] - two[k]).abs().max().item() for k in two) > 1e-3  # they trained, and alike
