"""Memory: the peak resident memory of `python app.py` once every model has been used by every
tab that fits it (all models loaded, every latent map drawn). Target: under 1.5 GB.

    python -m bench.memory
"""

from __future__ import annotations

import sys

from bench.common import app_process, memory_mb

TARGET_MB = 1.5e9 / 2**20  # 1.5 GB, in MiB


def use_every_model(url: str) -> int:
    """Every endpoint once per model that fits it, through gradio_client; returns the calls made."""
    import zoo
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    calls = 0
    try:
        datasets = sorted({zoo.get_spec(n).dataset for n in zoo.list_models()})
        for dataset in datasets:
            names = [n for n in zoo.list_models() if zoo.get_spec(n).dataset == dataset]
            client.predict(dataset=dataset, api_name="/reconstruct")  # every model of the dataset
            for left, right in zip(names[::2], names[1::2] + names[:1]):
                client.predict(dataset=dataset, left=left, right=right, ellipses=True, api_name="/latent_map")
                calls += 1
            calls += 1
        for name in zoo.list_models():
            client.predict(model=name, grid_size=16, api_name="/sample")
            client.predict(model=name, steps=64, api_name="/interpolate")
            client.predict(model=name, api_name="/traverse")
            calls += 3
            if zoo.get_spec(name).conditional:
                client.predict(model=name, api_name="/swap_labels")
                calls += 1
    finally:
        client.close()
    return calls


def peak_memory(url: str, pid: int) -> dict:
    start = memory_mb(pid)
    calls = use_every_model(url)
    end = memory_mb(pid)
    return dict(started_mb=start.get("rss"), rss_mb=end.get("rss"), peak_mb=end.get("peak"), calls=calls)


def markdown(result: dict) -> str:
    ok = "✓" if result["peak_mb"] and result["peak_mb"] < TARGET_MB else "✗"
    return (f"| `python app.py` | resident (MiB) |\n|---|---|\n| just started, page served | {result['started_mb']:.0f} |\n"
            f"| after {result['calls']} calls using every model in every tab that fits it | {result['rss_mb']:.0f} |\n"
            f"| **peak** (VmHWM; target < 1.5 GB = {TARGET_MB:.0f} MiB) | **{result['peak_mb']:.0f}** {ok} |")


def main() -> int:
    with app_process() as (url, pid):
        print(markdown(peak_memory(url, pid)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
