from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_sqlite_runs_in_wal_with_immediate_transactions(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite defaults apply only when DATABASE_URL is not set")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]


def test_default_settings_need_no_services(tmp_path):
    """A fresh machine: no DATABASE_URL or REDIS_URL -> SQLite file, filesystem broker, WAL."""
    code = (
        "import django, os; django.setup(); from django.conf import settings as s;"
        "from django.db import connection as c; c.ensure_connection();"
        "cur = c.cursor(); cur.execute('PRAGMA journal_mode'); mode = cur.fetchone()[0];"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, mode, s.CACHES['default']['BACKEND'])"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CLOSELOOP_VAR_DIR": str(tmp_path),
    }

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()

    assert out == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "wal",
        "django.core.cache.backends.locmem.LocMemCache",
    ]
    assert (tmp_path / "closeloop.sqlite3").exists()


def test_redis_url_becomes_broker_and_cache(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'])"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CLOSELOOP_VAR_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6399/3",
    }

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()

    assert out == [
        "redis://127.0.0.1:6399/3",
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6399/3",
    ]


def test_every_beat_entry_expires():
    schedule = celery_app.conf.beat_schedule

    assert schedule
    for key, entry in schedule.items():
        assert entry["options"]["expires"] > 0, key
        assert entry["task"] in celery_app.tasks or entry["task"].endswith("_task"), key


def test_importing_dispatch_does_not_import_django():
    code = "import sys, dispatch; print('django' in sys.modules)"

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()

    assert out == "False"
