"""The app's plots, drawn with matplotlib: latent maps (with a way back from a pixel to a code) and
posteriors (μ ± σ per dimension). Each returns an RGB uint8 array, ready for an image component.

Figures are built with the object-oriented API (`Figure` + the Agg canvas), never `pyplot`, so
that two requests can draw at the same time without sharing pyplot's global state.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # before anything asks for a backend; no window, no display needed

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import EllipseCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Circle, Ellipse  # noqa: E402

DPI = 100
PALETTE = matplotlib.colormaps["tab10"].colors  # ten well-separated colours; more classes reuse them
# 11 pt at 100 dpi is about 15 px: readable from the back of a classroom (at least 14 px).
STYLE = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "xtick.labelsize": 11, "ytick.labelsize": 11,
         "legend.fontsize": 11}
LARGE_STYLE = {key: value + 2 for key, value in STYLE.items()}  # presentation mode: 13 pt, about 18 px
LEGEND_ROW = 24  # pixels per legend row under a map
LEGEND = dict(loc="upper left", frameon=False, handlelength=1.6, handletextpad=0.3, columnspacing=0.8, borderaxespad=0.1,
              borderpad=0.1)
OVERLAY_COLOURS = {"draws": "black", "path": "#d62728", "posterior": "#1f3fbf"}


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


@dataclass(frozen=True)
class Overlays:
    """What a latent map can show on top of the examples' codes, all in the map's plane (None: not shown)."""

    draws: np.ndarray | None = None  # (M, 2) codes drawn from the prior, as the Sample tab draws them
    in_holes: np.ndarray | None = None  # (M,) bool: the draw is farther from every example than examples are from each other
    path: np.ndarray | None = None  # (T, 2) an interpolation path, from A to B
    posterior_mean: np.ndarray | None = None  # (2,) μ of one input
    posterior_cov: np.ndarray | None = None  # (2, 2) its σ ellipse's covariance (None for a point encoder)
    posterior_draws: np.ndarray | None = None  # (K, 2) codes drawn from that input's q(z|x)


def map_frame(extent: float, size: int = 440) -> MapFrame:
    """Where `latent_scatter` puts the plot area [-extent, extent]² in a picture `size` pixels wide:
    known without drawing, so a click is mapped back to a code with no redraw."""
    margin_l, margin_r, margin_t = 66, 18, 54  # room for the tick labels and axis name, and a two-line title
    return MapFrame(-extent, extent, margin_l, margin_t, size - margin_l - margin_r)


def _columns(texts: list[str], width: int, large: bool = False) -> int:
    """How many legend columns of `texts` fit in `width` pixels (11 pt text: under 7 px a character,
    after a handle, its padding and the column spacing of LEGEND; 13 pt text when `large`)."""
    scale = 13 / 11 if large else 1.0
    column = (46 + 6.8 * max((len(t) for t in texts), default=1)) * scale
    return max(1, min(len(texts), int((width - 8) // column)))


def fit_extent(points: np.ndarray) -> float:
    """A round half-width that holds 99.5% of `points` (N, 2) and at least the prior's ±2.5σ."""
    need = max(2.5, float(np.quantile(np.abs(points), 0.995)) * 1.08) if len(points) else 2.5
    for step in (0.5, 1, 2, 5, 10, 20, 50, 100):  # round up to a step that gives a handful of ticks
        if need <= step * 6:
            return float(np.ceil(need / step) * step)
    return float(np.ceil(need))


def _render(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()  # (H, W, 3) uint8


def _inside(points: np.ndarray, extent: float) -> np.ndarray:
    return (np.abs(np.asarray(points).reshape(-1, 2)) <= extent).all(axis=1)


def latent_scatter(points: np.ndarray, labels: np.ndarray, extent: float, title: str, axis_names: tuple[str, str],
                   covariances: np.ndarray | None = None, label_names: list[str] | None = None,
                   size: int = 440, overlays: Overlays | None = None, prior: bool = True,
                   large: bool = False) -> tuple[np.ndarray, MapFrame]:
    """Points (N, 2) coloured by label on [-extent, extent]², over the prior N(0, I)'s density
    (shaded, with its 1σ and 2σ circles dashed), with optional σ ellipses (covariances (N, 2, 2)),
    `overlays`, and legends below the frame. Points beyond the frame are left out (the title
    counts them), never drawn over the axes. Returns the RGB picture and its `MapFrame`."""
    label_names = [n[:12] for n in label_names or []]
    overlays = overlays or Overlays()
    frame = map_frame(extent, size)
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    labels = np.asarray(labels)
    inside = _inside(points, extent)
    beyond = int((~inside).sum())
    extra = _overlay_legend(overlays, prior)
    class_columns = _columns(label_names, size, large)
    extra_columns = _columns([n for _, n in extra], size, large)
    class_rows, extra_rows = -(-len(label_names) // class_columns), -(-len(extra) // extra_columns)
    row = LEGEND_ROW + (4 if large else 0)
    below = frame.top + frame.side + (52 if large else 46)  # under the tick labels and the axis name
    height = int(below + row * (class_rows + extra_rows) + 8)
    style = LARGE_STYLE if large else STYLE
    with matplotlib.rc_context(style):
        fig = Figure(figsize=(size / DPI, height / DPI), dpi=DPI)
        ax = fig.add_axes([frame.left / size, 1 - (frame.top + frame.side) / height, frame.side / size, frame.side / height])
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_title(title + (f" · {beyond} off the map" if beyond else ""), loc="left", fontsize=style["font.size"],
                     pad=5, linespacing=1.15)
        ax.set_xlabel(axis_names[0], labelpad=2)
        ax.set_ylabel(axis_names[1], labelpad=2)
        ax.locator_params(nbins=5)
        if prior:  # the prior N(0, I): where a VAE's codes should gather, and where samples come from
            grid = np.linspace(-extent, extent, 200)
            density = np.exp(-0.5 * (grid[None, :] ** 2 + grid[:, None] ** 2))
            ax.imshow(density, extent=(-extent, extent, -extent, extent), origin="lower", cmap="Greys", vmin=0, vmax=2.2,
                      interpolation="bilinear", zorder=0)
            for radius in (1.0, 2.0):
                ax.add_patch(Circle((0, 0), radius, fill=False, linestyle=(0, (4, 3)), edgecolor="0.3", linewidth=1.2, zorder=1))
        ax.grid(color="0.9", linewidth=0.8, zorder=0.5)
        ax.set_axisbelow(True)
        colours = np.array(PALETTE)[labels % len(PALETTE)] if len(labels) else np.zeros((0, 3))
        if covariances is not None and inside.any():
            values, vectors = np.linalg.eigh(np.asarray(covariances)[inside])  # ascending eigenvalues, (N, 2) and (N, 2, 2)
            radii = np.sqrt(np.clip(values, 0, None))
            angles = np.degrees(np.arctan2(vectors[:, 1, 1], vectors[:, 0, 1]))  # the major axis
            ax.add_collection(EllipseCollection(2 * radii[:, 1], 2 * radii[:, 0], angles, units="xy", offsets=points[inside],
                                                offset_transform=ax.transData, facecolors="none",
                                                edgecolors=np.c_[colours[inside], np.full(int(inside.sum()), 0.35)],
                                                linewidths=0.9, zorder=2))
        ax.scatter(points[inside, 0], points[inside, 1], s=10, c=colours[inside], alpha=0.85, linewidths=0, zorder=3)
        _draw_overlays(ax, overlays, extent)
        legend = LEGEND
        if label_names:
            handles = [Line2D([], [], marker="o", linestyle="", markersize=7, color=PALETTE[i % len(PALETTE)])
                       for i in range(len(label_names))]
            fig.legend(handles, label_names, bbox_to_anchor=(0.0, 1 - below / height), ncols=class_columns, **legend)
        if extra:
            fig.legend([h for h, _ in extra], [n for _, n in extra], ncols=extra_columns,
                       bbox_to_anchor=(0.0, 1 - (below + row * class_rows) / height), **legend)
        image = _render(fig)
    return image, frame


def _overlay_legend(overlays: Overlays, prior: bool) -> list[tuple[Line2D, str]]:
    items = []
    if prior:
        items.append((Line2D([], [], color="0.3", linestyle=(0, (4, 3))), "prior N(0, I): 1σ, 2σ"))
    if overlays.draws is not None:
        items.append((Line2D([], [], marker="x", linestyle="", color=OVERLAY_COLOURS["draws"], markersize=7), "draws from the prior"))
        if overlays.in_holes is not None:
            items.append((Line2D([], [], marker="o", linestyle="", markerfacecolor="none", markeredgewidth=1.5,
                                 color=OVERLAY_COLOURS["draws"], markersize=9),
                          f"in a hole: {int(np.sum(overlays.in_holes))} of {len(overlays.in_holes)}"))
    if overlays.path is not None:
        items.append((Line2D([], [], color=OVERLAY_COLOURS["path"], linewidth=2, marker="o", markersize=4), "path A → B"))
    if overlays.posterior_mean is not None:
        items.append((Line2D([], [], color=OVERLAY_COLOURS["posterior"], linewidth=1.5), "q(z|x) of A: μ, 1σ, 2σ"))
        if overlays.posterior_draws is not None:
            items.append((Line2D([], [], marker=".", linestyle="", color=OVERLAY_COLOURS["posterior"], markersize=6),
                          "draws from q(z|x)"))
    return items


def _draw_overlays(ax, overlays: Overlays, extent: float) -> None:
    if overlays.draws is not None:
        draws = np.asarray(overlays.draws).reshape(-1, 2)
        keep = _inside(draws, extent)
        ax.scatter(draws[keep, 0], draws[keep, 1], s=36, marker="x", color=OVERLAY_COLOURS["draws"], linewidths=1.4, zorder=6)
        if overlays.in_holes is not None:
            holes = keep & np.asarray(overlays.in_holes, dtype=bool)
            ax.scatter(draws[holes, 0], draws[holes, 1], s=110, facecolors="none", edgecolors=OVERLAY_COLOURS["draws"],
                       linewidths=1.5, zorder=6)
    if overlays.path is not None:
        path = np.clip(np.asarray(overlays.path).reshape(-1, 2), -extent, extent)
        ax.plot(path[:, 0], path[:, 1], color="white", linewidth=4.5, zorder=6)
        ax.plot(path[:, 0], path[:, 1], color=OVERLAY_COLOURS["path"], linewidth=2, marker="o", markersize=4, zorder=7)
        for end, name in ((path[0], "A"), (path[-1], "B")):
            ax.annotate(name, end, xytext=(6, 6), textcoords="offset points", fontsize=13, fontweight="bold",
                        color=OVERLAY_COLOURS["path"], zorder=8)
    if overlays.posterior_mean is not None:
        colour = OVERLAY_COLOURS["posterior"]
        if overlays.posterior_draws is not None:
            cloud = np.asarray(overlays.posterior_draws).reshape(-1, 2)
            cloud = cloud[_inside(cloud, extent)]
            ax.scatter(cloud[:, 0], cloud[:, 1], s=6, color=colour, alpha=0.6, linewidths=0, zorder=8)
        mean = np.clip(np.asarray(overlays.posterior_mean, dtype=float), -extent, extent)
        if overlays.posterior_cov is not None:
            values, vectors = np.linalg.eigh(np.asarray(overlays.posterior_cov, dtype=float))
            radii = np.sqrt(np.clip(values, 0, None))
            angle = float(np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1])))
            for k in (1, 2):
                ax.add_patch(Ellipse(tuple(mean), 2 * k * radii[1], 2 * k * radii[0], angle=angle, fill=False,
                                     edgecolor=colour, linewidth=2 if k == 1 else 1.2, zorder=9))
        ax.scatter([mean[0]], [mean[1]], s=70, marker="+", color=colour, linewidths=2.2, zorder=10)


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

    rows: (title, mean (D,), std (D,)). A μ beyond the axis is drawn at its edge as a red diamond;
    the legend under the panels says what each mark means. Returns an RGB uint8 image.

    Drawn on every reconstruction, so the axes, ticks, titles and legend (nine tenths of the work)
    are drawn once per layout and kept (`_PosteriorFrame`); each call draws only the marks over
    them: matplotlib's blitting.
    """
    means = [np.asarray(mean, dtype=float) for _, mean, _ in rows]
    beyond = any(np.any(np.abs(mean) > span) for mean in means)
    frame = _posterior_frame(tuple(title for title, _, _ in rows), tuple(len(mean) for mean in means), beyond, width, span)
    return frame.draw([(mean, np.asarray(std, dtype=float)) for mean, (_, _, std) in zip(means, rows)])


@functools.lru_cache(maxsize=16)  # a layout per model choice and label: a few MB each, a bounded few
def _posterior_frame(titles: tuple[str, ...], dims: tuple[int, ...], beyond: bool, width: int, span: float) -> "_PosteriorFrame":
    return _PosteriorFrame(titles, dims, beyond, width, span)


class _PosteriorFrame:
    """A posterior plot's figure with everything but the marks drawn, and the marks as artists to redraw."""

    def __init__(self, titles: tuple[str, ...], dims: tuple[int, ...], beyond: bool, width: int, span: float):
        self.span = span
        heights = [40 + 18 * d for d in dims]  # pixels per panel: title and ticks, then one row per dimension
        names = ["μ ± σ: the region q(z|x)", "μ (all an AE has)"] + ([f"μ beyond ±{span:g}, drawn at the edge"] if beyond else [])
        columns = _columns(names, width)
        legend_height = LEGEND_ROW * -(-len(names) // columns) + 8
        top, gap = 24, 34
        height = top + sum(heights) + gap * (len(dims) - 1) + 26 + legend_height
        self.panels = []  # (axes, ±σ bars, μ dots, μ-beyond diamonds), one per row
        with matplotlib.rc_context(STYLE):
            fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
            y = height - top
            for title, d, panel in zip(titles, dims, heights):
                y -= panel
                ax = fig.add_axes([52 / width, y / height, (width - 70) / width, (panel - 22) / height])
                y -= gap
                rows = np.arange(d)
                ax.axvline(0, color="0.6", linewidth=0.8)
                marks = (ax.hlines([], [], [], colors="tab:blue", linewidth=4, alpha=0.7),
                         ax.scatter([], [], s=18, color="0.1", zorder=3),
                         ax.scatter([], [], s=36, color="tab:red", marker="D", zorder=3, clip_on=False))
                for mark in marks:
                    mark.set_animated(True)  # left out of the background, drawn by draw()
                ax.set_xlim(-span * 1.04, span * 1.04)
                ax.set_ylim(d - 0.5, -0.5)
                step = max(1, -(-d // 8))
                ax.set_yticks(rows[::step], [f"z{i}" for i in rows[::step]])
                ax.set_title(title, loc="left", pad=4)
                ax.grid(axis="x", color="0.92")
                self.panels.append((ax, *marks))
            handles = [Line2D([], [], color="tab:blue", linewidth=4, alpha=0.7), Line2D([], [], color="0.1", marker="o", linestyle="")]
            if beyond:
                handles.append(Line2D([], [], color="tab:red", marker="D", linestyle=""))
            fig.legend(handles, names, loc="lower left", ncols=columns, frameon=False, bbox_to_anchor=(0.01, 0.0),
                       handletextpad=0.3, columnspacing=0.8, borderaxespad=0.2)
            self.canvas = FigureCanvasAgg(fig)
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(fig.bbox)
        self.lock = threading.Lock()  # one request at a time draws on this figure

    def draw(self, marks: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """marks: (mean (D,), std (D,)) per panel -> the plot, RGB uint8."""
        with self.lock:
            self.canvas.restore_region(self.background)
            for (ax, bars, dots, diamonds), (mean, std) in zip(self.panels, marks):
                rows = np.arange(len(mean))
                inside, centre = np.abs(mean) <= self.span, np.clip(mean, -self.span, self.span)
                spread = std > 0  # an AE's σ is 0: no bar
                bars.set_segments([[(c - s, r), (c + s, r)] for c, s, r in zip(centre[spread], std[spread], rows[spread])])
                dots.set_offsets(np.column_stack([mean[inside], rows[inside]]))
                diamonds.set_offsets(np.column_stack([np.sign(mean[~inside]) * self.span, rows[~inside]]))
                for mark in (bars, dots, diamonds):
                    ax.draw_artist(mark)
            return np.asarray(self.canvas.buffer_rgba())[:, :, :3].copy()


def rate_distortion_plot(points: list[tuple[float, float | None, float | None]], current: float, title: str = "",
                         width: int = 440, height: int = 400, large: bool = False) -> np.ndarray:
    """Reconstruction nats (distortion) against KL nats (rate), one point per β, the `current` β ringed.

    points: (β, rate, distortion); a β = 0 entry (an AE: no finite rate) is a dashed line at its
    distortion; entries not measured yet (None) are left out. Returns an RGB uint8 image."""
    measured = [(b, r, d) for b, r, d in points if r is not None and d is not None]
    with matplotlib.rc_context(LARGE_STYLE if large else STYLE):
        fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
        ax = fig.add_axes([84 / width, 112 / height, (width - 104) / width, (height - 150) / height])
        if measured:
            betas, rates, dists = (np.array(v, dtype=float) for v in zip(*sorted(measured, key=lambda p: p[1])))
            ax.plot(rates, dists, color="0.35", marker="o", markersize=6, linewidth=1.5, zorder=2)
            for b, r, d in measured:
                ax.annotate(f"β={b:g}", (r, d), xytext=(6, 4), textcoords="offset points", color="0.2")
            ax.margins(x=0.15, y=0.12)
        handles, names = [], []
        for b, r, d in points:
            if r is None and d is not None:
                ax.axhline(d, color="tab:red", linestyle=(0, (4, 3)), linewidth=1.3, zorder=1)
                handles.append(Line2D([], [], color="tab:red", linestyle=(0, (4, 3))))
                names.append(f"β = 0 (the AE): {d:.0f} nats, no finite KL")
            if b == current and d is not None:
                ring = dict(s=220, facecolors="none", edgecolors="tab:red", linewidths=2.5, zorder=4, clip_on=False)
                ax.scatter([r if r is not None else ax.get_xlim()[0]], [d], **ring)
                handles.append(Line2D([], [], marker="o", markersize=12, markerfacecolor="none", markeredgecolor="tab:red",
                                      markeredgewidth=2.5, linestyle=""))
                names.append(f"the model shown: β = {b:g}")
        ax.set_xlabel("rate: KL(q(z|x) ‖ p(z)), nats per image")
        ax.set_ylabel("distortion: −log p(x|z), nats")
        ax.set_title(title + ("" if measured else "\n(not measured yet: run vae-zoo eval)"), loc="left", pad=6)
        ax.grid(color="0.9")
        if handles:
            fig.legend(handles, names, ncols=1, bbox_to_anchor=(0.0, 58 / height), **{**LEGEND, "loc": "upper left"})
        return _render(fig)


def holes_plot(classes: np.ndarray, probs: np.ndarray, extent: float, label_names: list[str], confident: float,
               title: str = "", size: int = 440, large: bool = False) -> np.ndarray:
    """A latent plane decoded on a grid and judged by a classifier: each cell in its class's colour,
    pale where the classifier is less sure than `confident` (a hole: nothing it recognises).

    classes, probs: (G, G), rows from the top (high z1). Returns an RGB uint8 image."""
    frame = map_frame(extent, size)
    colours = np.array(PALETTE)[np.asarray(classes) % len(PALETTE)]  # (G, G, 3)
    sure = (np.asarray(probs) >= confident)[..., None]
    shaded = np.where(sure, colours, 0.82 + 0.18 * colours)  # a hole: nearly white, a trace of the guess
    names = [n[:12] for n in label_names]
    extra = [f"pale: p < {confident:g}, a hole", "prior N(0, I): 1σ, 2σ"]
    class_columns, extra_columns = _columns(names, size, large), _columns(extra, size, large)
    rows = -(-len(names) // class_columns) + -(-len(extra) // extra_columns)
    row = LEGEND_ROW + (4 if large else 0)
    below = frame.top + frame.side + (52 if large else 46)
    height = int(below + row * rows + 8)
    style = LARGE_STYLE if large else STYLE
    with matplotlib.rc_context(style):
        fig = Figure(figsize=(size / DPI, height / DPI), dpi=DPI)
        ax = fig.add_axes([frame.left / size, 1 - (frame.top + frame.side) / height, frame.side / size, frame.side / height])
        ax.imshow(shaded, extent=(-extent, extent, -extent, extent), interpolation="nearest", zorder=0)
        for radius in (1.0, 2.0):
            ax.add_patch(Circle((0, 0), radius, fill=False, linestyle=(0, (4, 3)), edgecolor="black", linewidth=1.4, zorder=1))
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_xlabel("z0", labelpad=2)
        ax.set_ylabel("z1", labelpad=2)
        ax.locator_params(nbins=5)
        ax.set_title(title, loc="left", fontsize=style["font.size"], pad=5, linespacing=1.15)
        legend = LEGEND
        handles = [Line2D([], [], marker="s", linestyle="", markersize=9, color=PALETTE[i % len(PALETTE)]) for i in range(len(names))]
        fig.legend(handles, names, bbox_to_anchor=(0.0, 1 - below / height), ncols=class_columns, **legend)
        fig.legend([Line2D([], [], marker="s", linestyle="", markersize=9, color="0.9"), Line2D([], [], color="black", linestyle=(0, (4, 3)))],
                   extra, bbox_to_anchor=(0.0, 1 - (below + row * -(-len(names) // class_columns)) / height),
                   ncols=extra_columns, **legend)
        return _render(fig)
