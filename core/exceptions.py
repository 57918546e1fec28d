"""One hierarchy for every refused action in Closeloop.

Every domain error derives from ``ApplicationError`` and carries a message written
for the person who tried the action. It is a ``ValidationError`` so that a form can
show it next to its fields (``form.add_error(None, exc)``) and DRF turns it into a
400 with the message; views catch ``ApplicationError``, never a module's own base.

| class | means | HTTP |
| ApplicationError | refused: the input or the state does not allow it | 400 |
| NotFound | the object is not there (or not yours to see) | 404 |
| NotPermitted | the object is there, the person may not do this to it | 403 |
| Conflict | the object moved on since the page was drawn | 409 |
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ApplicationError(ValidationError):
    """An action refused, with a message for the user."""

    status_code = 400

    @property
    def user_message(self) -> str:
        return " ".join(self.messages)


class NotFound(ApplicationError):
    status_code = 404


class NotPermitted(ApplicationError):
    status_code = 403


class Conflict(ApplicationError):
    status_code = 409
