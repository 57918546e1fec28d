"""Template filters for figures, so every page writes them the same way
(``core.formatting`` holds the rules; emails and messages use it directly).

    {% load closeloop %}
    {{ task.estimated_hours|hours }}          1.5 h
    {{ entry.hours|hours_billed }}           0.25 h (time as billed)
    {{ row.free|hours_free }}                 over by 8 h
    {{ load.utilization|percent }}            52 %
    {{ tasks|length|counted:"open task" }}    1 open task / 3 open tasks
    {{ n|counted:"person,people" }}           2 people
"""

from __future__ import annotations

from django import template

from core import formatting

register = template.Library()


@register.filter
def hours(value: object) -> str:
    return formatting.hours(value)


@register.filter
def hours_number(value: object) -> str:
    return formatting.hours_number(value)


@register.filter
def hours_billed(value: object) -> str:
    return formatting.hours_billed(value)


@register.filter
def hours_free(value: object) -> str:
    return formatting.hours_free(value)


@register.filter
def percent(value: object) -> str:
    return formatting.percent(value)


@register.filter
def counted(count: object, nouns: str) -> str:
    """``count`` with its noun; ``nouns`` is "singular" or "singular,plural"."""
    singular, _, plural_form = nouns.partition(",")
    try:
        number = int(count)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""
    return formatting.counted(number, singular, plural_form or None)


@register.filter
def plural(noun: str, count: object) -> str:
    """The noun alone, agreeing with ``count``: ``{{ "task"|plural:n }}``."""
    try:
        number = int(count)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return noun
    return formatting.plural(noun, number)
