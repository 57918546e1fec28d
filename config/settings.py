"""Closeloop settings: one file, read from the environment, with working defaults.

Defaults are the embedded path (SQLite in ``var/``, a filesystem Celery broker,
console email) so a fresh machine runs with no services. Production and CI set
``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (broker and cache).
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CLOSELOOP_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        # "ture" must not quietly mean False (TLS off, debug off...).
        raise ImproperlyConfigured(f"{name}={value!r}: expected true/false, yes/no, on/off or 1/0.")
    return word in TRUE_WORDS


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r}: must be at least {minimum}.")
    return number


def env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a number of seconds.") from None
    if not seconds > 0:
        raise ImproperlyConfigured(f"{name}={value!r}: must be more than 0 seconds.")
    return seconds


def env_decimal(
    name: str, default: str, *, minimum: str = "0", maximum: str | None = None
) -> Decimal:
    value = os.environ.get(name, "").strip() or default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a number.") from None
    if not number.is_finite() or number < Decimal(minimum):
        raise ImproperlyConfigured(f"{name}={value!r}: must be at least {minimum}.")
    if maximum is not None and number > Decimal(maximum):
        raise ImproperlyConfigured(f"{name}={value!r}: must be at most {maximum}.")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def local_secret_key(path: Path) -> str:
    """This installation's own random key, made once and kept in ``path`` (var/), so
    the web server, the worker and beat on this machine sign with the same key and no
    key is ever shared through the source. Several hosts set DJANGO_SECRET_KEY."""
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)  # the first process to get here wins; others read its key
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


# Debug pages (tracebacks, Django's list of URLs on a 404) only when asked for:
# `./scripts/run --debug` or DJANGO_DEBUG=true. Otherwise everybody gets the styled
# error pages, as in production.
DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or local_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("CLOSELOOP_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "phonenumber_field",
    "axes",
    "csp",
    "core",
    "staff",
    "clients",
    "notifications",
    "engagements",
    "capacity",
    "dispatch",
    "billing",
    "integrations",
    "portal",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early, so every response gets the policy, error pages and redirects included.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which reads (and spools) the body: an oversized one is refused unread.
    "core.middleware.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

# --- Login throttling (django-axes) --------------------------------------------
# Failed logins are counted per user name and, separately, per address, on the app's
# login and the admin's: after AXES_FAILURE_LIMIT the next attempt is refused with
# 429 and the lockout page until the cool-off has passed; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("CLOSELOOP_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CLOSELOOP_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Content-Security-Policy (django-csp) ------------------------------------
# Every page: scripts, styles, images and fonts only from this site, no inline
# script or style (templates keep CSS in static/css and JS in static/js; htmx runs
# with eval and its injected indicator style off, see base.html), no plugins, no
# framing, forms posting only here. Emails are not pages: they keep inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "form-action": [CSP_SELF],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# SQLite: WAL so readers never block the writer, IMMEDIATE so a transaction takes
# the write lock when it begins (no deadlock-prone lock upgrades mid-transaction).
# CONN_MAX_AGE: a worker or web process keeps its PostgreSQL connection this many
# seconds instead of opening one per task or request; health checks drop a dead
# one (a database restart) before it is used.
SQLITE_PATH = VAR_DIR / "closeloop.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=env_int("CLOSELOOP_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache when set ---------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
TESTING = "pytest" in sys.modules
if REDIS_URL and TESTING and (_test_worker := os.environ.get("PYTEST_XDIST_WORKER", "")):
    # Parallel test processes (pytest-xdist: gw0, gw1, ...) each take their own Redis
    # database, the configured one plus the worker's number: every test clears the
    # cache, and one process's real Celery worker must not take another's messages.
    # (The Celery workers the tests start inherit the number but not pytest: they take
    # the URL as given.)
    _redis = urlsplit(REDIS_URL)
    _redis_db = int(_redis.path.strip("/") or 0) + int(_test_worker.removeprefix("gw"))
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_redis_db}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "closeloop",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
# Under pytest with no Redis, work queued on commit goes to an in-memory broker: it
# must never land in var/ where a developer's running worker would pick it up.
# Redis redelivers a message not acknowledged within the visibility timeout. A
# countdown message is held unacknowledged until it runs, so the timeout must
# outlast the longest countdown (checked below), or it would run twice.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 3600, minimum=1)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT
    }
elif TESTING:
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    # kombu's filesystem transport: an embedded broker that needs no server.
    for sub in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        # Exchange bindings (fanout, remote control); kombu's default is ./control.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
    }
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Sends (SMTP, Slack) have a queue of their own, so a slow or hung channel never
# delays a dispatch; every worker of the run command consumes both
# (config.celery.route_task; the tests give each worker fresh names).
CELERY_NOTIFICATIONS_QUEUE = os.environ.get("CELERY_NOTIFICATIONS_QUEUE", "notifications")
CELERY_TASK_ROUTES = ("config.celery.route_task",)
# At least once, applied at most once: a message is acknowledged after its task
# ran, redelivered if the worker died running it; every task is idempotent
# (claims by conditional update, unique constraints).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# No task may hang a worker: SoftTimeLimitExceeded is raised in the task first
# (a send counts it as a failed attempt and retries), the hard limit then kills
# the pool process (prefork only; the solo pool cannot enforce either).
CELERY_TASK_SOFT_TIME_LIMIT = env_seconds("CELERY_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = env_seconds("CELERY_TASK_TIME_LIMIT", 90)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT:g} s) must be longer than "
        f"CELERY_TASK_SOFT_TIME_LIMIT ({CELERY_TASK_SOFT_TIME_LIMIT:g} s)."
    )
# Left off on purpose: with it, a broker outage terminates running tasks so
# that they are redelivered, and its reconnect path has crashed workers
# (celery/celery#9250). A task that finishes during the outage is redelivered
# anyway (its ack is lost) and its second run changes nothing.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

# --- Firm -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("CLOSELOOP_TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True
# Firm holiday calendar (python-holidays): country and optional subdivision.
CLOSELOOP_HOLIDAY_COUNTRY = os.environ.get("CLOSELOOP_HOLIDAY_COUNTRY", "US")
CLOSELOOP_HOLIDAY_SUBDIVISION = os.environ.get("CLOSELOOP_HOLIDAY_SUBDIVISION", "") or None
PHONENUMBER_DEFAULT_REGION = os.environ.get("CLOSELOOP_PHONE_REGION", "US")
PHONENUMBER_DB_FORMAT = "E164"

# --- Static -----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
# SMTP (DJANGO_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend).
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS")  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL")  # implicit TLS, usually port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "Set one of DJANGO_EMAIL_USE_TLS (STARTTLS) and DJANGO_EMAIL_USE_SSL (implicit TLS), not both."
    )
# A mail server that accepts and never answers must not hold a send for ever: it
# times out, counts as a failed attempt and is retried.
EMAIL_TIMEOUT = env_seconds("DJANGO_EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("CLOSELOOP_FROM_EMAIL", "Closeloop <closeloop@localhost>")

# --- Notifications ----------------------------------------------------------
# Slack: a bot token DMs each staff member by their Slack member id; without one,
# an incoming-webhook URL posts to one channel, mentioning them. Neither: no Slack.
SLACK_BOT_TOKEN = os.environ.get("SLACK_BOT_TOKEN", "")
SLACK_WEBHOOK_URL = os.environ.get("SLACK_WEBHOOK_URL", "")
SLACK_API_URL = os.environ.get("SLACK_API_URL", "https://slack.com/api/chat.postMessage")
SLACK_TIMEOUT_SECONDS = env_seconds("SLACK_TIMEOUT_SECONDS", 5)
# SMS through Twilio's REST API (follow-up touches to clients' mobiles), when all three are set.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = os.environ.get("TWILIO_FROM", "")  # the sending number, E.164
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "https://api.twilio.com")
TWILIO_TIMEOUT_SECONDS = env_seconds("TWILIO_TIMEOUT_SECONDS", 10)
# Microsoft Teams: Workflows incoming-webhook URLs (a person's, or the firm channel's) are
# set in the admin ("Teams webhooks"); each notification for staff is posted as a card.
TEAMS_TIMEOUT_SECONDS = env_seconds("TEAMS_TIMEOUT_SECONDS", 5)
NOTIFICATION_MAX_ATTEMPTS = env_int("CLOSELOOP_NOTIFICATION_MAX_ATTEMPTS", 5, minimum=1)
# First retry after this many seconds, doubling each time up to the cap.
NOTIFICATION_RETRY_BASE_SECONDS = env_int(
    "CLOSELOOP_NOTIFICATION_RETRY_BASE_SECONDS", 30, minimum=1
)
NOTIFICATION_RETRY_MAX_SECONDS = env_int(
    "CLOSELOOP_NOTIFICATION_RETRY_MAX_SECONDS", 3600, minimum=1
)
# The outbox (core/queue.py): work the broker never delivered is published again by
# a beat job (config/celery.py, every CLOSELOOP_OUTBOX_REQUEUE_INTERVAL_SECONDS) once
# it is this many seconds old.
OUTBOX_REQUEUE_AFTER_SECONDS = int(os.environ.get("CLOSELOOP_OUTBOX_REQUEUE_AFTER_SECONDS", "60"))
# The client hears "your work is scheduled" a few minutes after assignment, so a
# quick "request reassignment" never sends them the wrong name.
CLIENT_CONFIRMATION_DELAY_SECONDS = env_int("CLOSELOOP_CLIENT_CONFIRMATION_DELAY_SECONDS", 300)
ACTION_LINK_MAX_AGE_SECONDS = int(
    os.environ.get("CLOSELOOP_ACTION_LINK_MAX_AGE_SECONDS", str(7 * 24 * 3600))
)
FIRM_NAME = os.environ.get("CLOSELOOP_FIRM_NAME", "Closeloop CPA")
# Client upload links (engagements/uploads.py): each email signs a fresh link, so
# reminders always carry one that works; the age bounds a forwarded or leaked one.
UPLOAD_LINK_MAX_AGE_SECONDS = int(
    os.environ.get("CLOSELOOP_UPLOAD_LINK_MAX_AGE_SECONDS", str(30 * 24 * 3600))
)
UPLOAD_MAX_BYTES = int(os.environ.get("CLOSELOOP_UPLOAD_MAX_BYTES", str(15 * 1024 * 1024)))
# One upload request (several files at once); a larger body is refused with 413 from
# its header, before it is read (core.middleware.RequestBodyLimitMiddleware).
UPLOAD_MAX_REQUEST_BYTES = env_int(
    "CLOSELOOP_UPLOAD_MAX_REQUEST_BYTES", 50 * 1024 * 1024, minimum=1024 * 1024
)

# --- Billing ----------------------------------------------------------------
# What the invoice, its PDF and its email say about the firm and how to pay.
FIRM_ADDRESS = os.environ.get("CLOSELOOP_FIRM_ADDRESS", "")
FIRM_PHONE = os.environ.get("CLOSELOOP_FIRM_PHONE", "")
PAYMENT_INSTRUCTIONS = os.environ.get(
    "CLOSELOOP_PAYMENT_INSTRUCTIONS",
    f"Pay by bank transfer or by check payable to {FIRM_NAME}, quoting the invoice number.",
)
INVOICE_NUMBER_PREFIX = os.environ.get("CLOSELOOP_INVOICE_PREFIX", "INV-")
INVOICE_TERMS_DAYS = env_int("CLOSELOOP_INVOICE_TERMS_DAYS", 30)
if INVOICE_TERMS_DAYS > 365:
    raise ImproperlyConfigured("CLOSELOOP_INVOICE_TERMS_DAYS: at most 365 days.")
# The client's signed link to their invoice (and its PDF), no login.
INVOICE_LINK_MAX_AGE_SECONDS = env_int(
    "CLOSELOOP_INVOICE_LINK_MAX_AGE_SECONDS", 180 * 24 * 3600, minimum=60
)
# Late fees, the firm's default (a client's billing profile may differ): a flat
# amount, a percentage of the undisputed overdue balance, or both; none when both are 0.
LATE_FEE_FLAT = env_decimal("CLOSELOOP_LATE_FEE_FLAT", "0", maximum="10000")
LATE_FEE_PERCENT = env_decimal("CLOSELOOP_LATE_FEE_PERCENT", "0", maximum="25")
LATE_FEE_GRACE_DAYS = env_int("CLOSELOOP_LATE_FEE_GRACE_DAYS", 10)
LATE_FEE_PERIOD_DAYS = env_int("CLOSELOOP_LATE_FEE_PERIOD_DAYS", 30, minimum=1)
# Stripe: with a secret key, every issued invoice gets a hosted payment page.
# Card surcharge on the online payment page (Stripe only), the firm's default: a
# percentage of the balance, charged on credit cards only (billing/surcharges.py).
# Off (0) by default; card network rules in the US cap it at 3 %, and some states
# forbid it: turn it on only where the firm may surcharge.
CARD_SURCHARGE_MAX_PERCENT = Decimal("3")
CARD_SURCHARGE_PERCENT = env_decimal(
    "CLOSELOOP_CARD_SURCHARGE_PERCENT", "0", maximum=str(CARD_SURCHARGE_MAX_PERCENT)
)
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # a stand-in server (tests)
CURRENCY = os.environ.get("CLOSELOOP_CURRENCY", "usd").lower()
# Staff hear on Friday afternoon (firm time) when draft time is still unapproved.
TIME_REMINDER_HOUR = env_int("CLOSELOOP_TIME_REMINDER_HOUR", 14)
# A completed task with no approved time this many business days on reminds its assignee.
LEAKAGE_AFTER_BUSINESS_DAYS = env_int("CLOSELOOP_LEAKAGE_AFTER_BUSINESS_DAYS", 2, minimum=1)
# Follow-up touches go out once a day, from this hour (firm time); the hourly job
# before it does nothing, after it sends what fell due today (once).
FOLLOWUP_SEND_HOUR = env_int("CLOSELOOP_FOLLOWUP_SEND_HOUR", 9)
# The weekly billing report reaches partners on Monday from this hour (firm time).
WEEKLY_REPORT_HOUR = env_int("CLOSELOOP_WEEKLY_REPORT_HOUR", 7)
if FOLLOWUP_SEND_HOUR > 23 or WEEKLY_REPORT_HOUR > 23:
    raise ImproperlyConfigured("CLOSELOOP_FOLLOWUP_SEND_HOUR / _WEEKLY_REPORT_HOUR: 0 to 23.")

# --- REST API (Django REST framework, /api/v1/) ---------------------------------
# Tokens (Authorization: Bearer clk_...) and the browser session; the same roles and
# object rules as the pages; one error shape (integrations/api/errors.py).
API_RATE_LIMIT = os.environ.get("CLOSELOOP_API_RATE", "1200/min")
API_MAX_BODY_BYTES = env_int("CLOSELOOP_API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so an anonymous request is told 401 with WWW-Authenticate (not 403).
        "integrations.api.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "integrations.api.pagination.CursorPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.TokenRateThrottle"],
    "EXCEPTION_HANDLER": "integrations.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "integrations.api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Inbound webhooks (/webhooks/<slug>/): a refused body is kept up to this many bytes.
WEBHOOK_REFUSED_BODY_KEEP_BYTES = env_int("CLOSELOOP_WEBHOOK_REFUSED_BODY_KEEP_BYTES", 64 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Closeloop API",
    "DESCRIPTION": (
        "Clients, staff, engagements, tasks and escalations of the firm. Authenticate with "
        "`Authorization: Bearer clk_…` (tokens are issued in the admin) or the browser "
        "session. Every error has the shape `{type, code, message, field}`. Every POST honours "
        "an `Idempotency-Key` header (the first response is replayed for 24 hours)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
    "DISABLE_ERRORS_AND_WARNINGS": False,
}

# One console handler for everything: Django's own loggers write through it too (not
# through Django's default handler as well), so each line prints once; a 4xx is one
# line, without a traceback.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors_on_one_line": {"()": "core.log_filters.ClientErrorsOnOneLine"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["client_errors_on_one_line"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("CLOSELOOP_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Checks across sections -------------------------------------------------
# Every countdown a task is published with: the longest must end well inside the
# broker's visibility timeout, or Redis hands the waiting message to a second
# worker (retry backoff is capped; the client confirmation waits a few minutes).
LONGEST_COUNTDOWN_SECONDS = max(NOTIFICATION_RETRY_MAX_SECONDS, CLIENT_CONFIRMATION_DELAY_SECONDS)
if CELERY_VISIBILITY_TIMEOUT <= LONGEST_COUNTDOWN_SECONDS + CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT ({CELERY_VISIBILITY_TIMEOUT} s) must be longer than the "
        f"longest countdown ({LONGEST_COUNTDOWN_SECONDS} s) plus CELERY_TASK_TIME_LIMIT "
        f"({CELERY_TASK_TIME_LIMIT:g} s), or a waiting task would be delivered twice."
    )

# --- The planner (capacity/planner, dispatch/planning.py) ----------------------
# Seconds the solver may take for "Plan the week" and for one rebalancing run.
PLAN_TIME_LIMIT_SECONDS = env_seconds("CLOSELOOP_PLAN_TIME_LIMIT_SECONDS", 5)
REBALANCE_TIME_LIMIT_SECONDS = env_seconds("CLOSELOOP_REBALANCE_TIME_LIMIT_SECONDS", 5)
# A move a manager declined is not proposed again for this many days.
REBALANCE_DECLINE_DAYS = env_int("CLOSELOOP_REBALANCE_DECLINE_DAYS", 14, minimum=0)
