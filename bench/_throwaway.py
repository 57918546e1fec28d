"""Django set up for a page bench: production-like settings and a throwaway database
(PostgreSQL: a database next to the configured one; otherwise a temporary SQLite
directory), removed again by ``close``."""

from __future__ import annotations

import os
import tempfile
from typing import Any


class Throwaway:
    def __init__(self, suffix: str) -> None:
        self.tmp: Any = None
        if "DATABASE_URL" not in os.environ:
            self.tmp = tempfile.TemporaryDirectory()
            os.environ["CLOSELOOP_VAR_DIR"] = self.tmp.name
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        # Production-like: no debug cursor, no test-environment template instrumentation.
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = ["testserver"]
        self.name = connection.settings_dict["NAME"]
        self.bench_db = f"{self.name}_{suffix}"
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.bench_db}"')
                cursor.execute(f'CREATE DATABASE "{self.bench_db}"')
            connection.close()
            connection.settings_dict["NAME"] = self.bench_db

    def close(self) -> None:
        from django.db import connection

        if connection.vendor == "postgresql":
            connection.close()
            connection.settings_dict["NAME"] = self.name
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.bench_db}"')
        if self.tmp is not None:
            self.tmp.cleanup()
