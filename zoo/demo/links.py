"""Shareable links: a tab's settings as a URL query string, and back.

    ?tab=interpolate&model=vae_conv_z16.fashion_mnist&a=3&b=7&path=spherical&steps=16&t=0.25

Only what can be restored goes in: test examples by index, never uploads or drawings. Since the
examples ship with the repository and every random draw is seeded, the same link shows the
same pictures after a restart. Reading a link never fails: unknown keys are ignored and values
of the wrong type are dropped, each with a note saying why.
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import urlencode

# tab -> {key: type}; "list" is comma-separated strings, "floats" comma-separated numbers
TABS: dict[str, dict[str, str]] = {
    "reconstruct": {"dataset": "str", "models": "list", "a": "int", "label": "str"},
    "sample": {"model": "str", "n": "int", "seed": "int", "temp": "float", "label": "str"},
    "interpolate": {"model": "str", "a": "int", "b": "int", "path": "str", "steps": "int", "t": "float"},
    "swap_labels": {"model": "str", "a": "int", "b": "int", "label": "str"},
    "latent_map": {"dataset": "str", "left": "str", "right": "str", "ellipses": "bool"},
    "traverse": {"model": "str", "a": "int", "label": "str", "z": "floats"},
}


def make_link(tab: str, **params) -> str:
    """The query string (without '?') for `tab` with `params`; None values are left out."""
    if tab not in TABS:
        raise ValueError(f"unknown tab {tab!r}; one of {', '.join(TABS)}")
    fields = {"tab": tab}
    for key, kind in TABS[tab].items():
        value = params.get(key)
        if value is None or value == "" or value == []:
            continue
        if kind == "list":
            value = ",".join(map(str, value))
        elif kind == "floats":
            value = ",".join(f"{float(v):.3g}" for v in value)
        elif kind == "bool":
            value = "1" if value else "0"
        elif kind == "float":
            value = f"{float(value):g}"
        fields[key] = str(value)
    return urlencode(fields, safe=",:")


def read_link(query: Mapping[str, str]) -> tuple[str | None, dict, list[str]]:
    """(tab, typed params, notes on what was ignored) from a parsed query string."""
    tab = query.get("tab")
    if not tab:
        return None, {}, []
    if tab not in TABS:
        return None, {}, [f"unknown tab {tab!r} in the link; showing the default view"]
    params, notes = {}, []
    for key, raw in query.items():
        if key == "tab" or key.startswith("__"):
            continue
        kind = TABS[tab].get(key)
        if kind is None:
            notes.append(f"ignored {key!r}: the {tab} tab has no such setting")
            continue
        try:
            params[key] = _parse(raw, kind)
        except ValueError:
            notes.append(f"ignored {key}={raw!r}: expected {_KIND_WORDS[kind]}")
    return tab, params, notes


_KIND_WORDS = {"str": "text", "int": "a whole number", "float": "a number", "bool": "0 or 1",
               "list": "comma-separated names", "floats": "comma-separated numbers"}


def _parse(raw: str, kind: str):
    if kind == "str":
        return raw
    if kind == "int":
        return int(raw)
    if kind == "float":
        value = float(raw)
        if value != value:  # NaN
            raise ValueError
        return value
    if kind == "bool":
        if raw not in ("0", "1", "true", "false"):
            raise ValueError
        return raw in ("1", "true")
    if kind == "list":
        return [part for part in raw.split(",") if part]
    if kind == "floats":
        values = [float(part) for part in raw.split(",") if part]
        if any(v != v for v in values):
            raise ValueError
        return values
    raise ValueError(kind)
