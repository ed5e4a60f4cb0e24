"""The UI-free side of the Gradio app (`app.py`, `ui/`): what its tabs compute, numpy/PIL in and out.

    from zoo.demo import ZooView, tabs
    view = ZooView()                                 # every model in the zoo (or ZooView("*mnist"))
    picked = view.pick("mnist", "example", 3)        # a shipped test example, an upload or a drawing
    out = tabs.reconstruct.reconstruct(view, view.models(dataset="mnist"), picked)
    out.gallery, out.table, out.posterior            # frozen dataclasses, one per tab

Each tab is one module of `zoo.demo.tabs` with its link schema (`LINK`). Errors a user can cause
are `zoo.InputError`s with a message meant for them. Nothing here imports Gradio.
"""

from __future__ import annotations

from typing import Mapping

from .examples import export_examples, load_examples
from .links import AUTO, EACH, Field, LinkSchema
from .tabs import LINKS, MODULES
from .tabs.interpolate import PATHS
from .view import SOURCES, Picked, ZooView


def make_link(tab: str, **params) -> str:
    """The query string (without '?') of `tab` with `params`; None values are left out."""
    if tab not in LINKS:
        raise ValueError(f"unknown tab {tab!r}; one of {', '.join(LINKS)}")
    return LINKS[tab].write(**params)


def read_link(query: Mapping[str, str]) -> tuple[str | None, dict, list[str]]:
    """(tab, typed params, notes on what was ignored) from a parsed query string. Never raises."""
    tab = query.get("tab")
    if not tab:
        return None, {}, []
    if tab not in LINKS:
        return None, {}, [f"unknown tab {tab[:40]!r} in the link; showing the default view"]
    params, notes = LINKS[tab].parse(query)
    return tab, params, notes


__all__ = ["ZooView", "Picked", "AUTO", "EACH", "PATHS", "SOURCES", "LINKS", "MODULES", "Field", "LinkSchema",
           "make_link", "read_link", "export_examples", "load_examples"]
