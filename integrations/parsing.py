"""Read a webhook body into events, one per change, for each sender's format.

Plain Python. Everything a sender may get wrong raises ``Malformed`` with a
message for the 400; fields we do not use are tolerated (vendors add them).

Event ids: Stripe and QuickBooks CloudEvents send one; Karbon, Xero and the
QuickBooks legacy format do not, so the id is a hash of the fields that identify
the change (the same change sent twice hashes the same).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from dateutil.parser import isoparse

MAX_DEPTH = 32
MAX_EVENTS = 1000


class Malformed(ValueError):
    """The body is not what this sender sends; the message says what is wrong."""


class Unapplicable(Exception):
    """Signed and well formed, but Closeloop cannot apply it until a person acts."""


class NotApplicable(Exception):
    """Nothing in the event for Closeloop to do (an unpaid session, a bill): ignored."""


@dataclass(frozen=True)
class EventSpec:
    event_id: str
    event_type: str
    payload: dict[str, Any]
    resource_type: str = ""
    resource_id: str = ""
    occurred_at: datetime | None = None


def load_json(body: bytes) -> Any:
    """Strict UTF-8 JSON, at most ``MAX_DEPTH`` levels deep; an object or an array."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"The body is not valid UTF-8 (byte {exc.start}).") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise Malformed(f"The JSON is nested more than {MAX_DEPTH} levels deep.") from None
    except ValueError as exc:
        raise Malformed(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(value, (dict, list)):
        raise Malformed("The body must be a JSON object or array, not a single value.")
    if _depth(value) > MAX_DEPTH:
        raise Malformed(f"The JSON is nested more than {MAX_DEPTH} levels deep.")
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def derived_id(*parts: object) -> str:
    return "sha256:" + hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: object) -> datetime | None:
    """ISO 8601 as the vendors write it (9 fractional digits, no zone = UTC); None if absent."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise Malformed(f"{value!r} is not a time.") from None
    if not isinstance(value, str):
        raise Malformed(f"{value!r} is not a time.")
    try:
        moment: datetime = isoparse(_LONG_FRACTION.sub(r"\1", value.strip()))
    except (ValueError, OverflowError):
        raise Malformed(f"{value!r} is not an ISO 8601 time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _text(obj: dict[str, Any], *names: str, required: bool = True, where: str = "") -> str:
    for name in names:
        value = obj.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != "":
            text = str(value)
            if len(text) > 200 or "\x00" in text:
                raise Malformed(f"{where}{names[0]} is too long or holds a NUL byte.")
            return text
    if required:
        raise Malformed(f"{where}{names[0]} is missing or empty.")
    return ""


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{where} must be a JSON object.")
    return value


def _events(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise Malformed(f"{where} must be a JSON array.")
    if len(value) > MAX_EVENTS:
        raise Malformed(f"{where} holds more than {MAX_EVENTS} events.")
    return value


def parse_karbon(data: Any) -> list[EventSpec]:
    """``{ResourcePermaKey, ResourceType, ActionType, TimeStamp|Timestamp}``: one event."""
    body = _obj(data, "The body")
    key = _text(body, "ResourcePermaKey")
    kind = _text(body, "ResourceType")
    action = _text(body, "ActionType", required=False) or "Updated"
    stamp = body.get("TimeStamp", body.get("Timestamp"))
    return [
        EventSpec(
            event_id=derived_id("karbon", kind, key, action, stamp),
            event_type=f"{kind}.{action}".lower(),
            payload=body,
            resource_type=kind,
            resource_id=key,
            occurred_at=parse_time(stamp),
        )
    ]


_QBO_OPERATIONS = {
    "create": "created",
    "update": "updated",
    "delete": "deleted",
    "merge": "merged",
    "void": "voided",
    "emailed": "emailed",
}


def parse_qbo(data: Any) -> list[EventSpec]:
    """CloudEvents (a JSON array, up to 100 events) or the legacy ``eventNotifications``."""
    if isinstance(data, list):
        specs = []
        for index, item in enumerate(_events(data, "The batch")):
            event = _obj(item, f"Event {index}")
            kind = _text(event, "type", where=f"Event {index}: ")
            parts = kind.split(".")
            specs.append(
                EventSpec(
                    event_id=_text(event, "id", where=f"Event {index}: "),
                    event_type=kind,
                    payload=event,
                    resource_type=parts[1] if len(parts) > 2 else "",
                    resource_id=_text(event, "intuitentityid", required=False),
                    occurred_at=parse_time(event.get("time")),
                )
            )
        return specs
    notifications = _events(_obj(data, "The body").get("eventNotifications"), "eventNotifications")
    specs = []
    for notification in notifications:
        notification = _obj(notification, "An event notification")
        realm = _text(notification, "realmId")
        change = _obj(notification.get("dataChangeEvent"), "dataChangeEvent")
        for entity in _events(change.get("entities"), "entities"):
            entity = _obj(entity, "An entity")
            name = _text(entity, "name")
            entity_id = _text(entity, "id")
            operation = _text(entity, "operation")
            verb = _QBO_OPERATIONS.get(operation.lower(), operation.lower())
            specs.append(
                EventSpec(
                    event_id=derived_id(
                        "qbo", realm, name, entity_id, operation, entity.get("lastUpdated")
                    ),
                    event_type=f"qbo.{name.lower()}.{verb}.v1",
                    payload={"realmId": realm, **entity},
                    resource_type=name.lower(),
                    resource_id=entity_id,
                    occurred_at=parse_time(entity.get("lastUpdated")),
                )
            )
    return specs


def parse_xero(data: Any) -> list[EventSpec]:
    """``{events: [...], firstEventSequence, lastEventSequence, entropy}``; no events = intent to receive."""
    body = _obj(data, "The body")
    specs = []
    for index, item in enumerate(_events(body.get("events"), "events")):
        event = _obj(item, f"Event {index}")
        where = f"Event {index}: "
        category = _text(event, "eventCategory", where=where)
        kind = _text(event, "eventType", where=where)
        resource_id = _text(event, "resourceId", where=where)
        tenant = _text(event, "tenantId", where=where)
        stamp = event.get("eventDateUtc")
        specs.append(
            EventSpec(
                # eventType is "UPDATE" in the spec and "Update" in the docs: one id for both.
                event_id=derived_id(
                    "xero", tenant, category.upper(), resource_id, kind.upper(), stamp
                ),
                event_type=f"{category}.{kind}".lower(),
                payload=event,
                resource_type=category.lower(),
                resource_id=resource_id,
                occurred_at=parse_time(stamp),
            )
        )
    return specs


def parse_stripe(data: Any) -> list[EventSpec]:
    """A Stripe event: ``{id, type, created, data: {object: {...}}}``."""
    body = _obj(data, "The body")
    obj = _obj(_obj(body.get("data"), "data").get("object"), "data.object")
    return [
        EventSpec(
            event_id=_text(body, "id"),
            event_type=_text(body, "type"),
            payload=body,
            resource_type=_text(obj, "object", required=False),
            resource_id=_text(obj, "id", required=False),
            occurred_at=parse_time(body.get("created")),
        )
    ]


def parse_generic(data: Any) -> list[EventSpec]:
    """Closeloop's own format: ``{id, type, occurred_at, data: {...}}`` (see the README)."""
    body = _obj(data, "The body")
    payload = _obj(body.get("data"), "data")
    kind = _text(body, "type")
    if kind.startswith("job."):
        for name in ("job_id", "client_id", "work_type"):
            _text(payload, name, where="data.")
        for name in ("status", "name"):
            if name in payload and payload[name] is not None:
                _text(payload, name, where="data.")
        if payload.get("due_date") not in (None, ""):
            due = payload["due_date"]
            if not isinstance(due, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", due):
                raise Malformed("data.due_date must be a date, YYYY-MM-DD.")
            parse_time(due)
        parse_time(payload.get("updated_at"))
    return [
        EventSpec(
            event_id=_text(body, "id"),
            event_type=kind,
            payload=body,
            resource_type="job",
            resource_id=_text(payload, "job_id", required=False),
            occurred_at=parse_time(body.get("occurred_at")),
        )
    ]
