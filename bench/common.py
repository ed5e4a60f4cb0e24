"""What the benchmarks share: the machine's description, percentiles, a process's memory, and
`python app.py` started in a subprocess (so its memory and start are its own)."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """CPU model and cores, memory, load, and the versions that matter, in one line."""
    import gradio
    import torch

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    memory = ""
    with contextlib.suppress(OSError, StopIteration, ValueError):
        kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        memory = f", {kb / 2**20:.0f} GiB RAM"
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"{cpu}, {os.cpu_count()} cores{memory}{load}; {platform.system()} {platform.release()}; Python {platform.python_version()}, "
            f"torch {torch.__version__}, Gradio {gradio.__version__}")


def percentile(values, q: float) -> float:
    """The q-th percentile (0-100), linear between samples; NaN for no samples."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def memory_mb(pid: int | str = "self") -> dict:
    """A process's resident memory now (rss) and its peak so far (peak), in MiB, from /proc.
    Empty where /proc is not there (not Linux)."""
    out = {}
    with contextlib.suppress(OSError):
        for line in open(f"/proc/{pid}/status"):
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out["rss" if key == "VmRSS" else "peak"] = int(value.split()[0]) / 1024
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_page(url: str, process: subprocess.Popen | None = None, timeout: float = 180.0) -> float:
    """Seconds until GET `url` answers 200."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def app_process(*args: str, env: dict | None = None):
    """`python app.py --port P *args` in a subprocess; yields (url, pid) once the page is served."""
    port = free_port()
    environment = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", **(env or {}))
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port), *args], cwd=REPO_ROOT, env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_page(url, process)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
