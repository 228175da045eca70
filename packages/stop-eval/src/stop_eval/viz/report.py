"""The files of ``stop-eval visualize``: a PNG (matplotlib, Agg), a self-contained HTML, a JSON."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.gridspec import SubplotSpec
from matplotlib.patches import Rectangle

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stop_eval.viz.visualize import Visualization

VARIANTS = ("off", "on")
KEPT_RGBA = (0.2, 1.0, 0.3, 0.35)
DROPPED_RGBA = (0.0, 0.0, 0.0, 0.6)
SINK_COLOR = "red"
LEGEND = (
    "green: token kept (merged tokens at the cell prune places them); dark: dropped; "
    "red box: top sink position (solid: kept in that frame, dashed: dropped)"
)


def shown_token_frames(num_frames: int, count: int) -> list[int]:
    """Up to ``count`` token frames spread evenly over ``0 .. num_frames - 1``."""
    count = max(1, min(count, num_frames))
    return sorted({int(round(x)) for x in np.linspace(0, num_frames - 1, count)})


def draw_sink_map(ax: Axes, vis: Visualization) -> None:
    """The per-position sink score on the token grid, top sinks numbered by rank."""
    h, w = vis.grid
    image = ax.imshow(
        vis.sink.view(h, w).numpy(), cmap="magma", vmin=0.0, vmax=1.0, interpolation="nearest"
    )
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    for rank, p in enumerate(vis.top_sinks, start=1):
        ax.text(p % w, p // w, str(rank), color="cyan", ha="center", va="center", fontsize=8)
    ax.set_title(f"sink score ({h}x{w} token grid, top {len(vis.top_sinks)} numbered)", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_survival(ax: Axes, vis: Visualization) -> None:
    """Grouped bars: sink survival in any frame / per frame, SToP off vs on."""
    kinds = ("any_frame", "per_frame")
    x = np.arange(len(kinds))
    for i, (v, color) in enumerate(zip(VARIANTS, ("tab:gray", "tab:blue"), strict=True)):
        values = [vis.survival[v][k] for k in kinds]
        bars = ax.bar(x + (i - 0.5) * 0.38, values, 0.38, label=f"SToP {v}", color=color)
        for bar, value in zip(bars, values, strict=True):
            ax.text(
                bar.get_x() + bar.get_width() / 2, value + 0.02, f"{value:.2f}",
                ha="center", va="bottom", fontsize=8,
            )  # fmt: skip
    ax.set_xticks(x, ["any frame", "per frame"])
    ax.set_ylim(0, 1.15)
    ax.set_ylabel(f"share of top-{len(vis.top_sinks)} sinks kept")
    ax.set_title(f"sink survival ({vis.method}, retention {vis.retention:g})", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")


def draw_frame(ax: Axes, vis: Visualization, t: int, variant: str) -> None:
    """Token frame ``t`` over its decoded frame: grid, kept vs dropped cells, top sinks."""
    h, w = vis.grid
    frame = vis.frames[vis.frame_of_token[t]]
    height, width = frame.shape[:2]
    extent = (0.0, float(width), float(height), 0.0)
    kept = vis.kept[variant][t].view(h, w).numpy()
    overlay = np.where(kept[..., None], np.array(KEPT_RGBA), np.array(DROPPED_RGBA))
    ax.imshow(frame, extent=extent, interpolation="bilinear")
    ax.imshow(overlay, extent=extent, interpolation="nearest")
    cw, ch = width / w, height / h
    ax.hlines(np.arange(h + 1) * ch, 0, width, colors="white", linewidth=0.3, alpha=0.5)
    ax.vlines(np.arange(w + 1) * cw, 0, height, colors="white", linewidth=0.3, alpha=0.5)
    for p in vis.top_sinks:
        r, c = divmod(p, w)
        ax.add_patch(
            Rectangle(
                (c * cw, r * ch), cw, ch, fill=False, edgecolor=SINK_COLOR, linewidth=1.4,
                linestyle="-" if kept[r, c] else "--",
            )
        )  # fmt: skip
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        f"SToP {variant}, frame {vis.frame_of_token[t]}: {int(kept.sum())}/{h * w} tokens",
        fontsize=8,
    )


def draw_overview(fig: Figure, spec: SubplotSpec, vis: Visualization) -> None:
    """Heat map and survival bars side by side in ``spec``."""
    inner = spec.subgridspec(1, 2, wspace=0.35)
    draw_sink_map(fig.add_subplot(inner[0, 0]), vis)
    draw_survival(fig.add_subplot(inner[0, 1]), vis)


def draw_frames(fig: Figure, spec: SubplotSpec, vis: Visualization, shown: list[int]) -> None:
    """One row per SToP setting, one column per shown token frame, in ``spec``."""
    inner = spec.subgridspec(2, len(shown), wspace=0.05, hspace=0.25)
    for row, variant in enumerate(VARIANTS):
        for col, t in enumerate(shown):
            draw_frame(fig.add_subplot(inner[row, col]), vis, t, variant)


def frame_panel_size(vis: Visualization, shown: list[int]) -> tuple[float, float]:
    """(width, height) in inches of the frames block."""
    height, width = vis.frames.shape[1:3]
    cell = 2.6
    return max(6.0, cell * len(shown)), 2 * 0.8 * cell * height / width + 0.7


def render(vis: Visualization, shown: list[int], part: str = "all") -> Figure:
    """A figure with the overview (``"overview"``), the frames (``"frames"``) or both."""
    fw, fh = frame_panel_size(vis, shown)
    overview_h = 3.4
    heights = {"overview": [overview_h], "frames": [fh], "all": [overview_h, fh]}[part]
    fig = Figure(figsize=(max(fw, 8.0), sum(heights)), dpi=100)
    FigureCanvasAgg(fig)
    bottom = 0.45 / sum(heights) if part != "overview" else 0.05
    top = 1.0 - 0.45 / sum(heights)
    fig.suptitle(figure_title(vis), fontsize=10, y=1.0 - 0.1 / sum(heights), va="top")
    grid = fig.add_gridspec(
        len(heights), 1, height_ratios=heights, hspace=0.25, bottom=bottom, top=top
    )
    if part in ("overview", "all"):
        draw_overview(fig, grid[0, 0], vis)
    if part in ("frames", "all"):
        draw_frames(fig, grid[-1, 0], vis, shown)
        fig.text(0.5, 0.005, LEGEND, ha="center", va="bottom", fontsize=7)
    return fig


def figure_title(vis: Visualization) -> str:
    """The figure's title: method, backbone and which model it shows (demo or checkpoint)."""
    return f"{vis.method} on {vis.backbone}, retention {vis.retention:g} \u2014 model: {vis.label}"


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _table(header: list[str], rows: list[list[object]], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def html_page(vis: Visualization, images: dict[str, str]) -> str:
    """The self-contained report page (images as data URIs, inline CSS, no scripts)."""
    summary = vis.summary()
    h, w = vis.grid
    settings = [
        ["video", vis.video],
        ["backbone", vis.backbone],
        ["model", vis.label],
        ["method", vis.method],
        ["variant", summary["variant"]],
        ["retention", f"{vis.retention:g}"],
        ["decoded frames / token frames", f"{len(vis.frames)} / {vis.num_token_frames}"],
        ["token grid", f"{h} x {w}"],
        *[[f"SToP {v}: mu_s, mu_t", "{:g}, {:g}".format(*summary["mu"][v])] for v in VARIANTS],
    ]
    survival = [
        [
            v,
            summary["requested"][v],
            summary["kept"][v],
            f"{vis.survival[v]['any_frame']:.3f}",
            f"{vis.survival[v]['per_frame']:.3f}",
        ]
        for v in VARIANTS
    ]
    sinks = [
        [rank, s["position"], s["row"], s["col"], f"{s['sink_score']:.3f}"]
        + [f"{s['frames_kept'][v]}/{vis.num_token_frames}" for v in VARIANTS]
        for rank, s in enumerate(summary["top_sinks"], start=1)
    ]
    notes = "".join(
        f"<p>Budget, SToP {html.escape(v)}: {html.escape(text)}</p>"
        for v, text in summary.get("budget", {}).items()
    )
    if "planted_sinks" in summary:
        notes += (
            "<p>Demo model: sinks planted at token positions "
            f"{html.escape(str(summary['planted_sinks']))}; top sinks found there: "
            f"{'yes' if summary['planted_sinks_found'] else 'no'}.</p>"
        )
    style = (
        "body{font-family:sans-serif;margin:1.5em;max-width:1400px}"
        "table{border-collapse:collapse;margin:0.5em 0 1em}"
        "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}"
        "th{background:#eee}img{max-width:100%;display:block;margin:0.5em 0}"
    )
    k = len(vis.top_sinks)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>SToP sinks: {html.escape(Path(vis.video).name)} ({vis.backbone}, "
            f"{html.escape(vis.label)})</title>",
            f"<style>{style}</style>",
            "</head>",
            "<body>",
            f"<h1>Sink tokens and pruning: {html.escape(vis.method)} on {vis.backbone}</h1>",
            f'<p class="model">Model: {html.escape(vis.label)}</p>',
            _table(["setting", "value"], settings, "settings"),
            f"<h2>Sink survival (top-{k} sink positions)</h2>",
            "<p>Share of the top sink positions kept in any frame, and kept per frame "
            "(averaged over frames); merged tokens count where they are placed.</p>",
            _table(["SToP", "requested", "kept", "any frame", "per frame"], survival, "survival"),
            _table(
                [
                    "rank",
                    "position",
                    "row",
                    "col",
                    "sink score",
                    "frames kept (off)",
                    "frames kept (on)",
                ],
                sinks,
                "sinks",
            ),  # fmt: skip
            notes,
            "<h2>Sink score and survival</h2>",
            f'<img src="{images["overview"]}" alt="sink score heat map and sink survival">',
            "<h2>Kept tokens, SToP off (top row) vs on (bottom row)</h2>",
            f"<p>{html.escape(LEGEND)}</p>",
            f'<img src="{images["frames"]}" alt="frames with kept tokens, SToP off and on">',
            "</body>",
            "</html>",
            "",
        ]
    )


def write_report(vis: Visualization, out: Path, shown_frames: int = 4) -> dict[str, Path]:
    """Write ``visualize.png``, ``visualize.html`` and ``survival.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    shown = shown_token_frames(vis.num_token_frames, shown_frames)
    files = {
        "png": out / "visualize.png",
        "html": out / "visualize.html",
        "json": out / "survival.json",
    }
    files["png"].write_bytes(png_bytes(render(vis, shown, "all")))
    images = {
        part: data_uri(png_bytes(render(vis, shown, part))) for part in ("overview", "frames")
    }
    files["html"].write_text(html_page(vis, images), encoding="utf-8")
    summary = {
        **vis.summary(),
        "shown_token_frames": shown,
        "files": {k: str(v) for k, v in files.items()},
    }
    files["json"].write_text(json.dumps(summary, indent=2) + "\n")
    return files
