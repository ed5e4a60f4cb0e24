"""The app's plots, drawn with matplotlib: latent maps (with a way back from a pixel to a code) and
posteriors (μ ± σ per dimension). Each returns an RGB uint8 array, ready for an image component.

Figures are built with the object-oriented API (`Figure` + the Agg canvas), never `pyplot`, so
that two requests can draw at the same time without sharing pyplot's global state.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # before anything asks for a backend; no window, no display needed

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import EllipseCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

DPI = 100
PALETTE = matplotlib.colormaps["tab10"].colors  # ten well-separated colours; more classes reuse them
STYLE = {"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9}


@dataclass(frozen=True)
class MapFrame:
    """Where the square plot area [lo, hi]² lies in the picture, in pixels from its top-left corner."""

    lo: float
    hi: float
    left: float
    top: float
    side: float  # the plot area's width and height, in pixels

    def to_pixel(self, u, v):
        px = self.left + (np.asarray(u) - self.lo) / (self.hi - self.lo) * self.side
        py = self.top + (self.hi - np.asarray(v)) / (self.hi - self.lo) * self.side
        return px, py

    def to_latent(self, px: float, py: float) -> tuple[float, float]:
        u = self.lo + (px - self.left) / self.side * (self.hi - self.lo)
        v = self.hi - (py - self.top) / self.side * (self.hi - self.lo)
        return u, v

    def contains(self, px: float, py: float) -> bool:
        return self.left <= px <= self.left + self.side and self.top <= py <= self.top + self.side


def _render(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()  # (H, W, 3) uint8


def latent_scatter(points: np.ndarray, labels: np.ndarray, extent: float, title: str, axis_names: tuple[str, str],
                   covariances: np.ndarray | None = None, label_names: list[str] | None = None,
                   size: int = 440) -> tuple[np.ndarray, MapFrame]:
    """Points (N, 2) coloured by label on [-extent, extent]², with the prior's 1σ and 2σ circles
    (dashed), optional σ ellipses (covariances (N, 2, 2)) and a legend below. Returns the RGB
    picture and its `MapFrame`."""
    label_names = list(label_names or [])
    legend_rows = -(-len(label_names) // 5)
    height = size + 20 * legend_rows + 10
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(size / DPI, height / DPI), dpi=DPI)
        margin_l, margin_r, margin_t = 44, 12, 24
        side = size - margin_l - margin_r - 20  # and 20 px below the frame for the axis name
        ax = fig.add_axes([margin_l / size, 1 - (margin_t + side) / height, side / size, side / height])
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_title(title, loc="left")
        ax.set_xlabel(axis_names[0], labelpad=1)
        ax.set_ylabel(axis_names[1], labelpad=1)
        ax.grid(color="0.93", linewidth=0.8)
        ax.set_axisbelow(True)
        for radius in (1.0, 2.0):  # the prior N(0, I): where a VAE's codes should gather
            ax.add_patch(Circle((0, 0), radius, fill=False, linestyle=(0, (4, 3)), edgecolor="0.45", linewidth=1))
        colours = np.array(PALETTE)[np.asarray(labels) % len(PALETTE)]
        if covariances is not None:
            values, vectors = np.linalg.eigh(covariances)  # ascending eigenvalues, (N, 2) and (N, 2, 2)
            radii = np.sqrt(np.clip(values, 0, None))
            angles = np.degrees(np.arctan2(vectors[:, 1, 1], vectors[:, 0, 1]))  # the major axis
            ax.add_collection(EllipseCollection(2 * radii[:, 1], 2 * radii[:, 0], angles, units="xy", offsets=points,
                                                offset_transform=ax.transData, facecolors="none",
                                                edgecolors=np.c_[colours, np.full(len(points), 0.3)], linewidths=0.8))
        ax.scatter(points[:, 0], points[:, 1], s=7, c=colours, alpha=0.85, linewidths=0)
        if label_names:
            handles = [ax.scatter([], [], s=30, color=PALETTE[i % len(PALETTE)]) for i in range(len(label_names))]
            fig.legend(handles, [n[:14] for n in label_names], loc="lower center", ncols=5, frameon=False,
                       handletextpad=0.1, columnspacing=0.8, borderaxespad=0.2)
        image = _render(fig)
    frame = MapFrame(-extent, extent, margin_l, margin_t, side)
    return image, frame


def with_marker(image: np.ndarray, frame: MapFrame, u: float, v: float) -> np.ndarray:
    """A copy of a drawn map with a cross at the latent point (u, v): no redraw of the plot."""
    from PIL import Image, ImageDraw

    out = Image.fromarray(image)
    draw = ImageDraw.Draw(out)
    x, y = frame.to_pixel(u, v)
    for width, colour in ((5, "white"), (2, "black")):
        draw.line([(x - 8, y), (x + 8, y)], fill=colour, width=width)
        draw.line([(x, y - 8), (x, y + 8)], fill=colour, width=width)
    return np.asarray(out)


def posterior_plot(rows: list[tuple[str, np.ndarray, np.ndarray]], width: int = 560, span: float = 3.0) -> np.ndarray:
    """One panel per model: each latent dimension's μ as a dot with a ±σ bar, on a [-span, span] axis.

    rows: (title, mean (D,), std (D,)). A μ beyond the axis is drawn at its edge as a red triangle
    (the legend says so). Returns an RGB uint8 image.
    """
    heights = [34 + 13 * len(mean) for _, mean, _ in rows]  # pixels per panel: title, then one row per dimension
    top, bottom, gap = 26, 22, 30
    height = top + sum(heights) + gap * (len(rows) - 1) + bottom
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
        y = height - top
        beyond = False
        for title, mean, std in rows:
            panel = heights.pop(0)
            y -= panel
            ax = fig.add_axes([44 / width, y / height, (width - 56) / width, (panel - 20) / height])
            y -= gap
            mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
            dims = np.arange(len(mean))
            inside = np.abs(mean) <= span
            beyond |= bool((~inside).any())
            ax.axvline(0, color="0.6", linewidth=0.8)
            ax.errorbar(np.clip(mean, -span, span), dims, xerr=np.where(std > 0, std, np.nan), fmt="none",
                        ecolor="tab:blue", elinewidth=3, alpha=0.7)
            ax.scatter(mean[inside], dims[inside], s=14, color="0.1", zorder=3)
            ax.scatter(np.sign(mean[~inside]) * span, dims[~inside], s=28, color="tab:red", marker="D", zorder=3)
            ax.set_xlim(-span * 1.04, span * 1.04)
            ax.set_ylim(len(mean) - 0.5, -0.5)
            step = max(1, -(-len(mean) // 8))
            ax.set_yticks(dims[::step], [f"z{d}" for d in dims[::step]])
            ax.set_title(title, loc="left", pad=3)
            ax.grid(axis="x", color="0.92")
        handles = [Line2D([], [], color="tab:blue", linewidth=3, alpha=0.7), Line2D([], [], color="0.1", marker="o", linestyle="")]
        names = ["μ ± σ: the region q(z|x)", "μ (all an AE has)"]
        if beyond:
            handles.append(Line2D([], [], color="tab:red", marker="D", linestyle=""))
            names.append(f"μ beyond ±{span:g} (at the edge)")
        fig.legend(handles, names, loc="upper left", ncols=3, frameon=False, bbox_to_anchor=(0.01, 1), fontsize=9)
        return _render(fig)
