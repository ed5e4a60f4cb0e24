"""Shareable links: a tab's settings as a URL query string, and back.

    ?tab=interpolate&model=vae_conv_z16.fashion_mnist&a=3&b=7&path=spherical&steps=16&t=0.25

Each tab declares one `LinkSchema` (in its compute file, `zoo/demo/tabs/<tab>.py`): its keys,
their types, ranges and choices. The same schema writes a link, reads one back, and checks the
values a tab is called with, so a link and the endpoint can never disagree on what is valid.

Only what can be restored goes in: test examples by index, never uploads or drawings. Since the
examples ship with the repository and every random draw is seeded, the same link shows the same
pictures after a restart. Reading a link never fails: unknown keys, values of the wrong type and
values this app cannot use (an unknown model, an example that does not exist) are dropped, each
with a note saying why.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlencode

from ..errors import InputError

AUTO = "auto"
EACH = "each"
PAGE_KEYS = ("tab", "present")  # a link's keys for the page, not for its tab (present=1: presentation mode)
MAX_RAW = 2000  # characters of one value in a link; longer values are not read
_KIND_WORDS = {"str": "text", "int": "a whole number", "float": "a number", "bool": "0 or 1",
               "list": "comma-separated names", "floats": "comma-separated numbers"}


@dataclass(frozen=True)
class Field:
    """One setting of a tab: its type in a link and what values the app accepts.

    `check` names what it is: "model", "models", "dataset", "example", "label" (checked against
    the app's zoo), or None (only `bounds` / `choices` apply). `param` is the endpoint parameter
    it sets, which messages name.
    """

    kind: str  # "str" | "int" | "float" | "bool" | "list" | "floats"
    param: str = ""
    bounds: tuple[float, float] | None = None  # inclusive
    choices: tuple[str, ...] | None = None
    check: str | None = None

    def number(self, value):
        """`value` as this field's number, within its bounds; otherwise an InputError that names it."""
        cast = int if self.kind == "int" else float
        lo, hi = self.bounds
        try:
            number = cast(value)
            if cast is int and (isinstance(value, bool) or float(value) != number):
                raise ValueError
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
            raise InputError(f"{self.param} must be a number between {lo} and {hi}, got {short_repr(value)}") from None
        if isinstance(number, float) and math.isnan(number) or not lo <= number <= hi:
            raise InputError(f"{self.param} must be between {lo} and {hi}, got {short_repr(value)}")
        return number

    def choice(self, value) -> str:
        if value not in self.choices:
            raise InputError(f"{self.param} must be one of {', '.join(self.choices)}; got {short_repr(value)}")
        return value


class LinkSchema:
    """The link keys of one tab, in the order they are written."""

    def __init__(self, tab: str, fits: dict | None = None, **fields: Field):
        self.tab = tab
        self.fits = dict(fits or {})  # which models the tab can use, as `ZooView.models` filters
        self.fields = {key: (f if f.param else Field(f.kind, key, f.bounds, f.choices, f.check)) for key, f in fields.items()}

    def __getitem__(self, key: str) -> Field:
        return self.fields[key]

    def write(self, **params) -> str:
        """The query string (without '?'); None, "" and [] are left out."""
        out = {"tab": self.tab}
        for key, field in self.fields.items():
            value = params.get(key)
            if value is None or value == "" or value == []:
                continue
            if field.kind == "list":
                value = ",".join(map(str, value))
            elif field.kind == "floats":
                value = ",".join(f"{float(v):.3g}" for v in value)
            elif field.kind == "bool":
                value = "1" if value else "0"
            elif field.kind == "float":
                value = f"{float(value):g}"
            out[key] = str(value)
        return urlencode(out, safe=",:")

    def parse(self, query: Mapping[str, str]) -> tuple[dict, list[str]]:
        """Typed values from a parsed query string, and a note on each key that was ignored."""
        params, notes = {}, []
        for key, raw in query.items():
            if key in PAGE_KEYS or key.startswith("__"):
                continue
            field = self.fields.get(key)
            if field is None:
                notes.append(f"ignored {short_repr(key)}: the {self.tab} tab has no such setting")
                continue
            try:
                if len(raw) > MAX_RAW:
                    raise ValueError
                params[key] = _parse(raw, field.kind)
            except ValueError:
                notes.append(f"ignored {key}={short_repr(raw)}: expected {_KIND_WORDS[field.kind]}")
        return params, notes

    def clean(self, view, params: dict) -> tuple[dict, list[str]]:
        """The typed `params` that `view` (a `ZooView`) can apply, and a note on each it cannot."""
        kept, notes = {}, []
        model = params.get("model")
        if model is not None:
            if model in view.models(**self.fits):
                kept["model"] = model
            else:
                notes.append(f"model {short_repr(model)} is not one this tab can use here")
                params = {k: v for k, v in params.items() if k not in ("label", "z")}
        dataset = view.spec(kept["model"]).dataset if "model" in kept else params.get("dataset")
        if dataset is not None and dataset not in view.datasets():  # its examples, models and labels cannot be checked
            dropped = [key for key in params if self.fields[key].check in ("models", "example", "label")]
            notes += [f"ignored {key}: it belongs to the dataset {short_repr(dataset)}, which this app does not have" for key in dropped]
            params = {k: v for k, v in params.items() if k not in dropped}
        for key, value in params.items():
            if key == "model":
                continue
            try:
                self.validate(view, key, value, dataset, kept.get("model"))
                kept[key] = value
            except InputError as exc:
                notes.append(f"{key}: {exc}")
        return kept, notes

    def validate(self, view, key: str, value, dataset: str | None, model: str | None = None) -> None:
        """Raise an InputError when `view` cannot use `value` for `key`."""
        field = self.fields[key]
        if field.bounds is not None:
            field.number(value)
        elif field.choices is not None:
            field.choice(value)
        elif field.check == "dataset":
            if value not in view.datasets():
                raise InputError(f"dataset must be one of {', '.join(view.datasets())}; got {short_repr(value)}")
        elif field.check == "models":
            for name in value if isinstance(value, list) else [value]:
                if name not in view.models(dataset=dataset):
                    raise InputError(f"model {short_repr(name)} is not a {dataset} model of this app")
        elif field.check == "example":
            if dataset is None or not 0 <= value < len(view.examples(dataset)):
                raise InputError(f"example {value} does not exist")
        elif field.check == "label" and value not in (AUTO, EACH):
            if model is not None:
                view.parse_label(model, value)
            elif dataset and value not in view.label_names(dataset):
                raise InputError(f"label {short_repr(value)} is not one of {dataset}'s")


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


def link_notes(problems: list[str], limit: int = 8) -> str:
    """The notes on a link that was read, as plain text: the first `limit`, then how many more."""
    shown = list(problems[:limit]) + ([f"and {len(problems) - limit} more"] if len(problems) > limit else [])
    return "; ".join(shown)


_PATH = re.compile(r"(?<![\w.:/~])(?:[A-Za-z]:)?(?:[/\\][^\s'\"/\\<>]+)+[/\\]([^\s'\"/\\<>]*)")


def scrub_paths(text: str) -> str:
    """`text` with every absolute path cut to its last part ('/tmp/gradio/ab12/x.png' -> 'x.png'):
    what a user reads names no folder of the server."""
    return _PATH.sub(lambda m: m.group(1) or "…", str(text))


def short_repr(value, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters: a message never echoes a megabyte back."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
