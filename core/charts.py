"""Small pieces every server-rendered SVG chart shares (the close dashboard's, the
billing reports'): coordinates as attribute text and round axis values.

The charts themselves are plain data that a template draws as SVG: no inline style
or script (the strict Content-Security-Policy), colours in ``static/css/app.css``
classes, and a text alternative (a sentence and a table) beside each.
"""

from __future__ import annotations


def svg_number(value: float) -> str:
    """A coordinate as SVG attribute text: one decimal at most (and no localization
    pass in the template, which costs more than the drawing)."""
    return f"{value:.1f}".removesuffix(".0")


def axis_ticks(total: int) -> list[int]:
    """Up to five round values from 0 to the total for a count axis."""
    if total <= 0:
        return [0]
    for size in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if total / size <= 5:
            break
    else:
        size = max(1, total // 5)
    values = list(range(0, total + 1, size))
    return values if values[-1] == total else [*values, total]
