"""Read a form off a rendered page as a browser would submit it (for admin round trips)."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, str | list[str]] = {}
        self._select: str | None = None
        self._select_multiple = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def _put(self, name: str, value: str, multiple: bool = False) -> None:
        if multiple:
            current = self.data.setdefault(name, [])
            assert isinstance(current, list)
            current.append(value)
        else:
            self.data[name] = value

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and (self.form_id is None or a.get("id") == self.form_id):
            self.inside = True
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._put(a["name"], a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = a["name"]
            self._select_multiple = "multiple" in a
            if self._select_multiple:
                self.data.setdefault(self._select, [])
        elif tag == "option" and self._select and "selected" in a:
            self._put(self._select, a.get("value", ""), self._select_multiple)
        elif tag == "textarea":
            self._textarea = a["name"]
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.data[self._textarea] = "".join(self._text).removeprefix("\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def form_data(html: str, form_id: str | None = None) -> dict[str, str | list[str]]:
    """The name/value pairs the (first, or ``form_id``) form on ``html`` would post."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.data
