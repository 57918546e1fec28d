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


def _run_settings(tmp_path: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Load the settings in a fresh process with only ``env`` set (they are read at import)."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;" + code,
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CLOSELOOP_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
    )


def test_redis_visibility_timeout_outlasts_every_countdown(tmp_path):
    """A countdown message waits unacknowledged in the worker; Redis must not hand it out again."""
    from notifications.services import retry_delay

    longest_backoff = max(retry_delay(attempts) for attempts in range(1, 40))
    longest_countdown = max(longest_backoff, settings.CLIENT_CONFIRMATION_DELAY_SECONDS)

    out = _run_settings(
        tmp_path,
        "print(s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'])",
        REDIS_URL="redis://127.0.0.1:6399/3",
    )

    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == settings.CELERY_VISIBILITY_TIMEOUT
    assert int(out.stdout) > longest_countdown + settings.CELERY_TASK_TIME_LIMIT


def test_visibility_timeout_shorter_than_the_retry_backoff_is_refused(tmp_path):
    out = _run_settings(
        tmp_path,
        "print('loaded')",
        CELERY_VISIBILITY_TIMEOUT="1800",
        CLOSELOOP_NOTIFICATION_RETRY_MAX_SECONDS="3600",
    )

    assert out.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT (1800 s) must be longer" in out.stderr


def test_workers_never_hang_defaults():
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT == 60
    assert settings.CELERY_TASK_TIME_LIMIT == 90
    assert settings.EMAIL_TIMEOUT == 10
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert celery_app.conf.task_soft_time_limit == 60
    assert celery_app.conf.task_time_limit == 90


def test_sends_are_routed_to_the_notifications_queue_and_dispatch_is_not():
    from config.celery import SEND_TASKS

    celery_app.loader.import_default_modules()
    # A renamed send task would silently lose its route and share dispatch's queue.
    assert SEND_TASKS and SEND_TASKS <= set(celery_app.tasks)
    router = celery_app.amqp.router

    send = router.route({}, "notifications.tasks.notification_send_task")
    dispatch = router.route({}, "dispatch.tasks.task_dispatch_task")

    assert send["queue"].name == settings.CELERY_NOTIFICATIONS_QUEUE == "notifications"
    assert dispatch["queue"].name == celery_app.conf.task_default_queue


def test_time_limits_and_conn_max_age_come_from_the_environment(tmp_path):
    out = _run_settings(
        tmp_path,
        "print(s.CELERY_TASK_SOFT_TIME_LIMIT, s.CELERY_TASK_TIME_LIMIT,"
        " s.DATABASES['default']['CONN_MAX_AGE'], s.CELERY_NOTIFICATIONS_QUEUE)",
        CELERY_TASK_SOFT_TIME_LIMIT="20",
        CELERY_TASK_TIME_LIMIT="30",
        CLOSELOOP_DB_CONN_MAX_AGE="0",
        CELERY_NOTIFICATIONS_QUEUE="sends",
    )

    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["20.0", "30.0", "0", "sends"]


def test_hard_time_limit_must_exceed_the_soft_one(tmp_path):
    out = _run_settings(tmp_path, "", CELERY_TASK_SOFT_TIME_LIMIT="60", CELERY_TASK_TIME_LIMIT="60")

    assert out.returncode != 0
    assert "CELERY_TASK_TIME_LIMIT (60 s) must be longer" in out.stderr


def test_smtp_settings_come_from_the_environment(tmp_path):
    out = _run_settings(
        tmp_path,
        "print(s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD,"
        " s.EMAIL_USE_TLS, s.EMAIL_USE_SSL, s.EMAIL_TIMEOUT)",
        DJANGO_EMAIL_HOST="smtp.firm.example",
        DJANGO_EMAIL_PORT="587",
        DJANGO_EMAIL_HOST_USER="closeloop@firm.example",
        DJANGO_EMAIL_HOST_PASSWORD="s3cret",
        DJANGO_EMAIL_USE_TLS="yes",
        DJANGO_EMAIL_TIMEOUT="2.5",
    )

    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "smtp.firm.example",
        "587",
        "closeloop@firm.example",
        "s3cret",
        "True",
        "False",
        "2.5",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_EMAIL_PORT": "smtp"}, "DJANGO_EMAIL_PORT='smtp': expected a whole number."),
        ({"DJANGO_EMAIL_PORT": "0"}, "DJANGO_EMAIL_PORT='0': must be at least 1."),
        ({"DJANGO_EMAIL_USE_TLS": "ture"}, "DJANGO_EMAIL_USE_TLS='ture': expected true/false"),
        (
            {"DJANGO_EMAIL_USE_TLS": "1", "DJANGO_EMAIL_USE_SSL": "1"},
            "Set one of DJANGO_EMAIL_USE_TLS (STARTTLS) and DJANGO_EMAIL_USE_SSL",
        ),
        ({"DJANGO_EMAIL_TIMEOUT": "0"}, "DJANGO_EMAIL_TIMEOUT='0': must be more than 0 seconds."),
        (
            {"DJANGO_EMAIL_TIMEOUT": "ten"},
            "DJANGO_EMAIL_TIMEOUT='ten': expected a number of seconds.",
        ),
    ],
)
def test_bad_email_settings_stop_startup_with_a_clear_error(tmp_path, env, message):
    out = _run_settings(tmp_path, "print('loaded')", **env)

    assert out.returncode != 0 and "loaded" not in out.stdout
    assert "ImproperlyConfigured: " + message in out.stderr


def test_debug_is_off_unless_the_environment_turns_it_on(tmp_path):
    """Off by default: a missing page is the styled 404 for everybody, never Django's
    list of URLs; ``./scripts/run --debug`` sets DJANGO_DEBUG for development."""
    default = _run_settings(tmp_path, "print(s.DEBUG)")
    asked = _run_settings(tmp_path, "print(s.DEBUG)", DJANGO_DEBUG="true")

    assert default.returncode == 0, default.stderr
    assert (default.stdout.strip(), asked.stdout.strip()) == ("False", "True")
    run = (ROOT / "scripts" / "run").read_text()
    assert "--debug) export DJANGO_DEBUG=true" in run
    assert "collectstatic" in run  # debug off: whitenoise serves the collected files


def test_email_links_point_where_the_run_command_serves(tmp_path):
    """``PORT=8123 ./scripts/run`` serves on 8123, so the links in its emails do too,
    unless CLOSELOOP_SITE_URL says otherwise."""
    lines = (ROOT / "scripts" / "run").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("PORT="))
    end = next(i for i, line in enumerate(lines) if "export CLOSELOOP_SITE_URL" in line)
    snippet = "\n".join([*lines[start : end + 1], 'echo "$CLOSELOOP_SITE_URL"'])

    def site_url(**env: str) -> str:
        done = subprocess.run(
            ["bash", "-c", snippet],
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    assert site_url(PORT="8123") == "http://127.0.0.1:8123"
    assert site_url() == "http://127.0.0.1:8000"
    assert site_url(PORT="8123", CLOSELOOP_SITE_URL="https://firm.example") == (
        "https://firm.example"
    )
    served = _run_settings(
        tmp_path, "print(s.SITE_URL)", CLOSELOOP_SITE_URL="http://127.0.0.1:8123"
    )
    assert served.stdout.strip() == "http://127.0.0.1:8123", served.stderr


def test_without_a_configured_key_each_installation_makes_its_own_once(tmp_path):
    first = _run_settings(tmp_path, "print(s.SECRET_KEY)")
    second = _run_settings(tmp_path, "print(s.SECRET_KEY)")
    elsewhere = _run_settings(tmp_path / "other", "print(s.SECRET_KEY)")
    configured = _run_settings(tmp_path, "print(s.SECRET_KEY)", DJANGO_SECRET_KEY="k" * 50)

    key = first.stdout.strip()
    assert len(key) >= 50 and "insecure" not in key
    assert second.stdout.strip() == key  # the web server, worker and beat agree
    assert elsewhere.stdout.strip() not in ("", key)
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert configured.stdout.strip() == "k" * 50


@pytest.mark.parametrize("entry", ["config.wsgi", "config.asgi"])
def test_a_server_process_imports_every_view_at_boot_not_on_its_first_request(tmp_path, entry):
    """Lazily, the URLconf import made each server process's first request ~1 s slower."""
    code = f"import sys, {entry}; print('config.urls' in sys.modules, 'integrations.views' in sys.modules)"
    env = {"PATH": "/usr/bin:/bin", "CLOSELOOP_VAR_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "True"]
