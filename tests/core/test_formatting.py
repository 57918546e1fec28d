"""One way to write hours, percentages and counts on every page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template

from core.formatting import counted, hours, hours_billed, hours_free, percent, plural


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.50"), "1.5 h"),
        (Decimal("4.00"), "4 h"),
        (12, "12 h"),
        (21.333, "21.3 h"),
        (Decimal("1240.25"), "1,240.3 h"),
        (-0.04, "0 h"),
        (None, "—"),
        ("", "—"),
        ("not a number", "—"),
        (float("nan"), "—"),
    ],
)
def test_hours_one_decimal_at_most_and_a_dash_when_unknown(value, expected):
    assert hours(value) == expected


def test_billed_hours_keep_their_quarter_hours_without_trailing_zeros():
    assert hours_billed(Decimal("0.25")) == "0.25 h"
    assert hours_billed(Decimal("13.50")) == "13.5 h"
    assert hours_billed(Decimal("12.00")) == "12 h"
    assert hours_billed(Decimal("1240")) == "1,240 h"
    assert hours_billed(None) == "—"


def test_hours_free_says_over_by_for_a_shortfall():
    assert hours_free(-8) == "over by 8 h"
    assert hours_free(Decimal("12.25")) == "12.3 h free"
    assert hours_free(0) == "0 h free"
    assert hours_free(None) == "—"


def test_percent_is_whole_with_a_space_before_the_sign():
    assert percent(0.523) == "52 %"
    assert percent(Decimal("1.5")) == "150 %"
    assert percent(None) == "—"


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "business day", "1 business day"),
        (0, "business day", "0 business days"),
        (3, "task", "3 tasks"),
        (2, "person", "2 people"),
        (2, "company", "2 companies"),
        (2, "day", "2 days"),
        (2, "box", "2 boxes"),
        (1204, "engagement", "1,204 engagements"),
    ],
)
def test_counted_agrees_the_noun_with_the_number(count, noun, expected):
    assert counted(count, noun) == expected


def test_plural_alone():
    assert plural("escalation", 1) == "escalation"
    assert plural("escalation", 5) == "escalations"


def test_template_filters_use_the_same_rules():
    template = Template(
        "{% load closeloop %}{{ h|hours }}|{{ f|hours_free }}|{{ u|percent }}|"
        '{{ n|counted:"open task" }}|{{ m|counted:"person,people" }}|{{ "day"|plural:n }}'
    )

    text = template.render(Context({"h": Decimal("1.5"), "f": -8, "u": 0.52, "n": 1, "m": 3}))

    assert text == "1.5 h|over by 8 h|52 %|1 open task|3 people|day"


def test_no_page_writes_hours_its_own_way():
    """Pages write hours through the ``hours`` filters ("12 h", not "12.0 h" or
    "12.00 h"); emails and the inputs' values are not pages' figures."""
    import re
    from pathlib import Path

    own_way = re.compile(r"\|floatformat[^}]*\}\}\s*h\b")
    templates = Path(__file__).resolve().parents[2] / "templates"
    offenders = [
        f"{path.relative_to(templates)}:{number}"
        for path in sorted(templates.rglob("*.html"))
        if "emails" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if own_way.search(line)
    ]
    assert offenders == []
