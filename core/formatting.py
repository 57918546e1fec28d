"""How figures read on every page and in every message: one formatter each.

- Hours: at most one decimal, no trailing ".0", thousands grouped, a space and "h":
  ``1.5 h``, ``12 h``, ``1,240 h``. Nothing known is a dash.
- Billed time (time entries, invoice quantities) keeps the quarter hours it is billed
  in: at most two decimals, no trailing zeros: ``0.25 h``, ``13.5 h``, ``12 h``.
- Percentages: whole numbers with a space before the sign, as the firm writes them:
  ``52 %``.
- Counts: the noun agrees with the number: ``1 business day``, ``3 business days``.

Pure Python (no Django), so services, selectors, emails and templates share it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DASH = "—"
_TENTH = Decimal("0.1")

# Nouns whose plural is not the singular plus "s".
_IRREGULAR = {"person": "people", "child": "children"}


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def hours_number(value: object) -> str:
    """``value`` hours as a number only: ``1.5``, ``12``, ``1,240``; "" when unknown."""
    number = _decimal(value)
    if number is None:
        return ""
    rounded = number.quantize(_TENTH, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = Decimal("0.0")  # no "-0"
    text = f"{rounded:,.1f}"
    return text.removesuffix(".0")


def hours(value: object) -> str:
    """``1.5 h``; a dash when there is no figure."""
    number = hours_number(value)
    return f"{number} h" if number else DASH


def hours_billed(value: object) -> str:
    """Billed time as billed: ``0.25 h``, ``13.5 h``, ``12 h``; a dash when unknown."""
    number = _decimal(value)
    if number is None:
        return DASH
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = Decimal("0.00")
    text = f"{rounded:,.2f}".rstrip("0").removesuffix(".")
    return f"{text} h"


def hours_free(value: object) -> str:
    """Free hours, where a shortfall reads as one: ``12 h free``, ``over by 8 h``."""
    number = _decimal(value)
    if number is None:
        return DASH
    if number.quantize(_TENTH, rounding=ROUND_HALF_UP) < 0:
        return f"over by {hours(-number)}"
    return f"{hours(number)} free"


def percent(fraction: object) -> str:
    """A fraction (0.523) as ``52 %``; a dash when there is no figure."""
    number = _decimal(fraction)
    if number is None:
        return DASH
    whole = (number * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"{whole:,} %"


def plural(noun: str, count: int | float | Decimal) -> str:
    """``noun`` in the form ``count`` needs (English, with the firm's few irregulars)."""
    if count == 1:
        return noun
    if noun in _IRREGULAR:
        return _IRREGULAR[noun]
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def counted(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 task``, ``3 tasks``, ``1,204 engagements``."""
    word = noun if count == 1 else (plural_form or plural(noun, count))
    return f"{count:,} {word}"
