"""The UI-free side of the Gradio app (`app.py`): everything its tabs compute, numpy/PIL in and out.

    from zoo.demo import Demo
    demo = Demo()                                   # every model in the zoo (or Demo("*mnist"))
    picked = demo.pick("mnist", "example", 3)       # a shipped test example, an upload or a drawing
    out = demo.reconstruct(demo.models(dataset="mnist"), picked)

Errors a user can cause are ValueErrors with a message meant for them; `app.py` shows them as
`gr.Error`. Nothing here imports Gradio.
"""

from .examples import export_examples, load_examples
from .handlers import AUTO, EACH, PATHS, SOURCES, Demo, Picked, parse_label
from .links import TABS, make_link, read_link

__all__ = ["Demo", "Picked", "AUTO", "EACH", "PATHS", "SOURCES", "TABS", "make_link", "read_link",
           "parse_label", "export_examples", "load_examples"]
