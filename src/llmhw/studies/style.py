"""The report's plotting style: one look for every study's figures.

Studies build figures with :func:`figure` (a plain ``matplotlib.figure.Figure`` on the Agg
canvas: no pyplot, no global figure registry, nothing to close) and colour them with
:func:`color`, so the same chip, memory technology or part of a step has the same colour in every
figure of the report::

    from llmhw.studies import style

    fig, ax = style.figure(width=6.5, height=3.6)
    ax.plot(x, y, color=style.color("h100-sxm"), label=style.label("h100-sxm"))
    style.log_axis(ax, "x")
"""

from __future__ import annotations

import zlib
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

# Figures are plain Figure objects: they render on the Agg (PNG) and SVG canvases without pyplot,
# so importing this module leaves an interactive session's backend alone. `llmhw study` sets
# MPLBACKEND=Agg for studies that use pyplot.

# Okabe-Ito, the colour-blind-safe qualitative palette, then a few darker companions.
PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#882255",
                            "#117733", "#999933", "#332288", "#AA4499", "#44AA99", "#661100", "#6699CC")

# Hardware: the chips the studies compare most get fixed colours; the rest hash into the palette.
HARDWARE_COLORS: dict[str, str] = {
    "h100-sxm": "#0072B2", "hgx-h100-8": "#0072B2", "h100-pcie": "#0072B2",
    "h200": "#56B4E9", "hgx-h200-8": "#56B4E9", "h200-nvl": "#56B4E9", "gh200": "#56B4E9",
    "b200": "#009E73", "dgx-b200-8": "#009E73",
    "gb200": "#117733", "gb200-nvl72": "#117733", "b300": "#44AA99", "gb300": "#44AA99",
    "a100-sxm-80gb": "#999933", "hgx-a100-8": "#999933", "a100-pcie-80gb": "#999933",
    "mi300x": "#D55E00", "mi300x-8": "#D55E00", "mi325x": "#AA4499", "mi325x-8": "#AA4499",
    "mi355x": "#882255", "mi355x-8": "#882255",
    "tpu-v6e": "#E69F00", "tpu-v6e-8": "#E69F00", "tpu-v6e-256": "#E69F00",
    "tpu-v7": "#CC79A7", "tpu-v7-pod": "#CC79A7", "tpu-v5e": "#DDAA33", "tpu-v5p": "#BB5566",
    "groq-lpu": "#332288", "cerebras-wse3": "#AA3377", "gaudi3": "#6699CC", "trainium2": "#222255",
}

# Memory and interconnect technologies, near-memory compute, 3D stacks.
TECH_COLORS: dict[str, str] = {
    "sram": "#332288", "hbm2e": "#88CCEE", "hbm3": "#44AA99", "hbm3e": "#0072B2", "hbm4": "#117733",
    "hbf": "#D55E00", "hbf-gen2": "#AA4499", "lpddr5": "#DDCC77", "lpddr5x": "#E69F00", "ddr5": "#999933",
    "gddr7": "#CC6677", "nand-ssd-gen5": "#661100", "ufs4": "#882255", "cxl-expander": "#6699CC",
    "pim": "#CC79A7", "pnm": "#009E73", "3d": "#56B4E9", "stack": "#56B4E9",
    "nvlink": "#0072B2", "ici": "#E69F00", "ethernet": "#999999", "infiniband": "#332288", "pcie": "#BBBBBB",
}

# Where a step's time goes (the engine's breakdown), and what memory holds.
PART_COLORS: dict[str, str] = {
    "compute": "#E69F00", "memory": "#0072B2", "communication": "#009E73", "comm_latency": "#009E73",
    "comm_bandwidth": "#88CCAA", "overhead": "#AAAAAA", "near-memory compute": "#CC79A7",
    "weights": "#0072B2", "kv_cache": "#D55E00", "kv cache": "#D55E00", "activations": "#E69F00",
    "prefill": "#882255", "decode": "#0072B2",
}

# Short names for the hardware most studies compare.
HARDWARE_LABELS: dict[str, str] = {
    "h100-sxm": "H100", "hgx-h100-8": "H100 x8", "h200": "H200", "hgx-h200-8": "H200 x8", "b200": "B200",
    "dgx-b200-8": "B200 x8", "gb200": "GB200", "gb200-nvl72": "GB200 NVL72", "a100-sxm-80gb": "A100",
    "mi300x": "MI300X", "mi300x-8": "MI300X x8", "mi325x": "MI325X", "mi355x": "MI355X", "tpu-v6e": "TPU v6e",
    "tpu-v6e-8": "TPU v6e-8", "tpu-v7": "TPU7x", "tpu-v5e": "TPU v5e", "tpu-v5p": "TPU v5p",
    "groq-lpu": "Groq LPU", "cerebras-wse3": "Cerebras WSE-3", "gaudi3": "Gaudi 3", "trainium2": "Trainium2",
    "k20x": "K20X", "k40": "K40", "m40": "M40", "p100-sxm2": "P100", "v100-sxm2": "V100",
}

MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "grid.linestyle": "-",
    "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "lines.linewidth": 1.8,
    "lines.markersize": 5.5,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.08,
    "svg.fonttype": "none",          # text stays text: small, searchable SVGs
    "pdf.fonttype": 42,
}


def apply() -> None:
    """Set the report's rcParams (idempotent). :func:`figure` calls it."""
    matplotlib.rcParams.update(RC)


def figure(width: float = 6.5, height: float = 3.6, nrows: int = 1, ncols: int = 1, **subplots_kw: Any
           ) -> tuple[Figure, Any]:
    """A new figure in the report's style and its axes (one Axes, or an array for a grid).
    Sizes in inches; 6.5 in is the text width of a paper column pair."""
    apply()
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplots_kw)
    return fig, axes


def canvas(width: float = 6.5, height: float = 3.6) -> Figure:
    """A new empty figure in the report's style, for layouts :func:`figure` does not make
    (``fig.subplot_mosaic``, nested grids)."""
    apply()
    return Figure(figsize=(width, height), layout="constrained")


def _hashed(name: str, palette: tuple[str, ...] = PALETTE) -> str:
    return palette[zlib.crc32(name.encode()) % len(palette)]


def color(name: str) -> str:
    """The colour of a chip or system id, a memory or interconnect technology, or a part of a step
    (``compute``, ``memory``, ``communication``, ``overhead``, ``weights``, ``kv_cache``, ...);
    anything else gets a stable colour from the palette."""
    key = name.lower()
    for table in (HARDWARE_COLORS, TECH_COLORS, PART_COLORS):
        if key in table:
            return table[key]
    for prefix, c in TECH_COLORS.items():        # pnm-hbm, pim-lpddr, hbm3e-12hi, nvlink5-nvl72 ...
        if key.startswith(prefix):
            return c
    return _hashed(key)


def label(hardware_id: str) -> str:
    """A short display name for a chip or system id (its catalog name when not listed)."""
    if hardware_id in HARDWARE_LABELS:
        return HARDWARE_LABELS[hardware_id]
    try:
        from llmhw.hardware.catalog import lookup

        return getattr(lookup(hardware_id), "name", "") or hardware_id
    except Exception:
        return hardware_id


def marker(i: int) -> str:
    return MARKERS[i % len(MARKERS)]


def _plain(x: float, _pos: Any = None) -> str:
    """Tick labels for log axes: 0.01, 0.1, 1, 10, 100, 1k, 10k, 100k, 1M ..."""
    if x <= 0:
        return ""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            v = x / scale
            return f"{v:g}{suffix}"
    return f"{x:g}"


def log_axis(ax: Any, which: str = "y", plain: bool = True) -> None:
    """Log scale with decade ticks labelled 0.1, 1, 10, 100, 1k (not 10^n) and unlabelled minors."""
    for w in which:
        axis = ax.xaxis if w == "x" else ax.yaxis
        (ax.set_xscale if w == "x" else ax.set_yscale)("log")
        axis.set_major_locator(LogLocator(base=10))
        axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(2, 10))))
        axis.set_minor_formatter(NullFormatter())
        if plain:
            axis.set_major_formatter(FuncFormatter(_plain))


def percent_axis(ax: Any, which: str = "x") -> None:
    fmt = FuncFormatter(lambda v, _p: f"{v:.0%}" if abs(v) <= 1.0001 else f"{v:g}")
    (ax.xaxis if which == "x" else ax.yaxis).set_major_formatter(fmt)


# The smallest text a figure may carry, in points at its saved size: a 6.5-8 in figure shown two per
# row (~650 px wide) still renders 8 pt at about 9-11 px.
MIN_FONT_PT = 8.0


def small_text(fig: Figure, min_pt: float = MIN_FONT_PT) -> list[str]:
    """The visible texts of a figure set smaller than ``min_pt`` points (what a test refuses)."""
    from matplotlib.text import Text

    return [f"{t.get_text()[:40]!r} at {t.get_fontsize():.1f} pt" for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and t.get_fontsize() < min_pt - 1e-9]


def tokens(n: float) -> str:
    """A token count as a reader writes it: 1K for 1,024, 32K for 32,000, 1.4K for 1,424, 200."""
    if n < 1000:
        return f"{n:,.0f}"
    for unit in (1024, 1000):
        if n % unit == 0:
            return f"{n // unit:,.0f}K"
    v = n / 1024
    return f"{v:.1f}K" if v < 10 else f"{v:,.0f}K"


def setup(*parts: str) -> str:
    """A figure's setup line from its parts (model and precision, system and mapping, lengths,
    batch), empty parts left out."""
    return ", ".join(p for p in parts if p)


SETUP_MAX_CHARS = 120      # a setup line that fits above a 6.5-8 in figure at the report's 8.5 pt
SUMMARY_MAX_CHARS = 450    # two or three sentences


def study_problems(study: Any, names: Any) -> list[str]:
    """What keeps a study from presenting itself (empty when nothing): a figure without a setup line
    naming one of ``names`` (the study's models or systems), a setup line too long to sit above its
    figure (wide figures excepted), text under :data:`MIN_FONT_PT`; a summary that is empty, quotes
    no number or runs past :data:`SUMMARY_MAX_CHARS`."""
    out = []
    for f in study.figures:
        if not any(n in f.setup for n in names):
            out.append(f"{f.name}: setup {f.setup!r} names none of {sorted(names)}")
        if len(f.setup) > SETUP_MAX_CHARS and f.figure.get_size_inches()[0] <= 8.5:
            out.append(f"{f.name}: setup of {len(f.setup)} characters")
        out += [f"{f.name}: {t}" for t in small_text(f.figure)]
    s = study.summary
    if not s or not any(ch.isdigit() for ch in s) or len(s) > SUMMARY_MAX_CHARS:
        out.append(f"summary {s!r}: empty, without a number or over {SUMMARY_MAX_CHARS} characters")
    return out


def end_labels(ax: Any, ends: list[tuple[float, float, str, str]], gap_pt: float = 10.5, x: float = 1.02) -> None:
    """Label lines directly, in a column just right of the axes: ``ends`` holds (x, y, text, colour)
    of the point each label belongs to (data coordinates). Labels closer than ``gap_pt`` are spread
    apart, and each is tied to its point by a thin leader. Call after the limits are final."""
    ax.get_xlim(), ax.get_ylim()                    # settle autoscaling before reading positions
    to_axes = ax.transScale + ax.transLimits
    fig = ax.get_figure()
    gap = gap_pt / 72 / max(ax.get_position().height * fig.get_size_inches()[1], 1e-9)
    items = sorted((float(to_axes.transform((xd, yd))[1]), xd, yd, t, c) for xd, yd, t, c in ends)
    ys = [it[0] for it in items]
    for i in range(1, len(ys)):                     # push up, then back down from the top if needed
        ys[i] = max(ys[i], ys[i - 1] + gap)
    if ys and ys[-1] > 1.0:
        ys[-1] = 1.0
        for i in range(len(ys) - 2, -1, -1):
            ys[i] = min(ys[i], ys[i + 1] - gap)
    for (_y, xd, yd, text, c), y in zip(items, ys, strict=True):
        ax.annotate(text, (xd, yd), xytext=(x, y), textcoords="axes fraction", va="center", ha="left",
                    fontsize=8, color=c, annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": c, "lw": 0.5, "alpha": 0.7, "shrinkA": 1, "shrinkB": 3,
                                "relpos": (0.0, 0.5)})


def place_labels(ax: Any, points: list[tuple[float, float, str]], fontsize: float = 8, color: str = "#222222",
                 avoid: list[Any] | None = None) -> None:
    """Label scattered points without overlaps: each label takes the first of a ring of positions
    around its point (right, left, above, below, the diagonals; then twice as far) whose box clears
    the labels already placed, every point's marker, the ``avoid`` artists (a legend) and the axes'
    edges; failing all, the one that overlaps least. Call when the figure is otherwise complete:
    it lays the figure out once to measure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    fig = ax.get_figure()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    px = fig.dpi / 72.0
    frame = ax.get_window_extent(r)
    half = 4.0 * px
    markers = [Bbox.from_extents(x - half, y - half, x + half, y + half)
               for x, y in (ax.transData.transform((p[0], p[1])) for p in points)]
    # Padded: a horizontal line's box has no height.
    taken = list(markers) + [a.get_window_extent(r).padded(2.0 * px) for a in (avoid or [])]
    ring = [(6, 0, "left", "center"), (-6, 0, "right", "center"), (0, 5, "center", "bottom"),
            (0, -5, "center", "top"), (5, 4, "left", "bottom"), (5, -4, "left", "top"), (-5, 4, "right", "bottom"),
            (-5, -4, "right", "top")]
    ring += [(2 * dx, 2 * dy, ha, va) for dx, dy, ha, va in ring]

    def cost(bb: Any) -> float:
        over = sum(max(0.0, min(bb.x1, o.x1) - max(bb.x0, o.x0)) * max(0.0, min(bb.y1, o.y1) - max(bb.y0, o.y0))
                   for o in taken)
        outside = (max(0.0, frame.x0 - bb.x0) + max(0.0, bb.x1 - frame.x1) + max(0.0, frame.y0 - bb.y0)
                   + max(0.0, bb.y1 - frame.y1)) * bb.height
        return over + 10 * outside

    for i, (x, y, text) in enumerate(points):
        own = markers[i]
        taken.remove(own)                 # a label may touch its own marker's box, never cover another
        best = None
        for dx, dy, ha, va in ring:
            a = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                            fontsize=fontsize, color=color)
            c = cost(a.get_window_extent(r).expanded(1.04, 1.1))
            if best is None or c < best[0]:
                if best is not None:
                    best[1].remove()
                best = (c, a)
            else:
                a.remove()
            if c == 0:
                break
        taken.append(best[1].get_window_extent(r))
        taken.append(own)
