"""Aggregates Django has only for one database."""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, JSONField


class JSONList(Aggregate):
    """The values as one JSON array (PostgreSQL ``jsonb_agg``, SQLite
    ``json_group_array``): a list read in the same query as its parent row."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra)
