"""A message template rendered once, filled many times.

A batch job that writes thousands of messages of the same shape (the follow-up run:
one email per client) renders each shape once with a placeholder token in every slot
that varies, then fills the tokens per message. Rendering a template costs ~1-5 ms;
filling a rendered one, microseconds. (``html.escape`` is what Django's ``escape``
calls, without its lazy-string wrapper: a third of the fill's cost.) The tokens are private-use characters that
neither escaping nor ``linebreaksbr`` touch; the values are escaped for the HTML part
when filled (``parts`` carry fragments already built for each format, e.g. table rows
filled from their own skeleton).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape

from django.template.loader import render_to_string

_TOKEN = re.compile("\ue000(\\w+)\ue001")


def slot(name: str) -> str:
    """The token standing for ``name`` in a skeleton's context."""
    return f"\ue000{name}\ue001"


class Skeleton:
    """A rendered text and HTML with slots; ``fill`` joins their pieces with values."""

    def __init__(self, text: str, html: str) -> None:
        # re.split with a group: literal, name, literal, name, ..., literal.
        self._text = _TOKEN.split(text)
        self._html = _TOKEN.split(html)

    @classmethod
    def render(
        cls, template: str, context: dict[str, object], *, fragment: bool = False
    ) -> Skeleton:
        """``emails/<template>.txt`` and ``.html`` rendered with ``context``, whose
        varying values are ``slot(name)`` tokens; a whole message's text is trimmed as
        ``notify`` trims it, a ``fragment`` (a table row) is kept as rendered."""
        text = render_to_string(f"emails/{template}.txt", context)
        if not fragment:
            text = text.strip() + "\n"
        return cls(text, render_to_string(f"emails/{template}.html", context))

    def fill(
        self, values: Mapping[str, str], parts: Mapping[str, tuple[str, str]] | None = None
    ) -> tuple[str, str]:
        """(text, html) with each slot replaced: ``values`` as they are in the text and
        escaped in the HTML; ``parts`` (text, html) as given."""
        parts = parts or {}
        text = self._text[:]
        for i in range(1, len(text), 2):
            name = text[i]
            text[i] = parts[name][0] if name in parts else values[name]
        html = self._html[:]
        for i in range(1, len(html), 2):
            name = html[i]
            html[i] = parts[name][1] if name in parts else escape(values[name])
        return "".join(text), "".join(html)
