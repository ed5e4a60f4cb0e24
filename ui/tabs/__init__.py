"""The app's tabs, in the order they are shown: each module is one tab's Gradio side.

A new tab is a compute module in `zoo/demo/tabs/`, a UI module here, and one name in this list.
"""

from . import interpolate, latent_map, reconstruct, sample, swap_labels, tradeoff, traverse

TABS = [reconstruct, sample, interpolate, swap_labels, latent_map, traverse, tradeoff]
