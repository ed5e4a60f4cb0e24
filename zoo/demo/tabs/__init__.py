"""What each tab of the app computes: one module per tab, UI-free (numpy/PIL in, frozen dataclasses out).

Each module declares its link schema as `LINK` and its computations as plain functions of a
`ZooView`. The modules are found here by name, so a new tab's compute side is one new file;
the Gradio side lives in `ui/tabs/<tab>.py`.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..links import LinkSchema

MODULES = {info.name: importlib.import_module(f"{__name__}.{info.name}")
           for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}
LINKS: dict[str, LinkSchema] = {m.LINK.tab: m.LINK for m in MODULES.values()}
