"""Which device the zoo runs on: CUDA if present, else Apple's MPS, else the CPU.

`ZOO_DEVICE` (e.g. `cpu`, `cuda:1`) or an explicit `device=` argument overrides the choice.
"""

from __future__ import annotations

import os

import torch


def default_device() -> torch.device:
    if os.environ.get("ZOO_DEVICE"):
        return resolve_device(os.environ["ZOO_DEVICE"])
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Turn `device` (or None, meaning the default) into a torch.device that exists here."""
    if device is None or device == "":
        return default_device()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r}; use cpu, cuda, cuda:N or mps") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available here; use cpu")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} asked for, but MPS is not available here; use cpu")
    return dev
