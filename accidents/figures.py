"""Figures as files: the matplotlib back-end, figure -> PNG bytes, PNG bytes -> image.

Why one module: the evaluation plots, the simulation plot and the ZenML image artifacts all
need the same three things (a non-interactive back-end, PNG bytes at one resolution, the
figure closed so long runs do not leak memory, a PIL image for the dashboard).
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # plots are written to files / artifacts, never shown

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Resolution of every PNG written (HTML reports, artifacts, files).
PNG_DPI = 90


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure (and close it, so long runs do not leak memory)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI)
    plt.close(fig)
    return buffer.getvalue()


def png_image(png: bytes, mode: str | None = None) -> object:
    """A loaded PIL image of PNG bytes (what ZenML stores and renders as an image artifact)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert(mode) if mode else image
