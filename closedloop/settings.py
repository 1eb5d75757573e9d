"""closedloop settings: everything comes from the environment, with safe local defaults.

The same module serves a first run on a laptop (SQLite, console email, tasks on the ORM broker)
and production (PostgreSQL, SMTP, several task clusters sharing the database).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import dj_email_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from closedloop.lib.env import envbool, envint, envlist, envstr, local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY") or local_secret_key(BASE_DIR / ".secret_key")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
# Base of the links in emails and webhooks; a local run on another PORT links to itself.
SITE_URL = envstr("SITE_URL", f"http://127.0.0.1:{envint('PORT', 8000)}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and Redoc from the product itself, so the API docs work on an offline host.
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_q",
    "axes",
    "closedloop.lib",
    "closedloop",
    "surveys",
    "followups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the WSGI server, before the request costs a session lookup;
    # the latency histogram below it measures the product's own pages and endpoints.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "closedloop.lib.metrics.RequestLatencyMiddleware",
    "closedloop.lib.middleware.RejectNulCharactersMiddleware",
    # Before the CSRF check, which reads form bodies: an oversized body is refused unread.
    "closedloop.lib.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so it sees the lockout the authentication backend flagged on the request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "closedloop.urls"
WSGI_APPLICATION = "closedloop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "closedloop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "closedloop.navigation.navigation",
            ],
        },
    },
]

# Database: DATABASE_URL (PostgreSQL in production and CI), else an SQLite file for a first run.
# A connection age keeps enqueueing cheap: with CONN_MAX_AGE=0 every enqueue reconnects.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the task cluster share the file; wait for a lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite ignores the INCLUDE columns of covering indexes; they exist for PostgreSQL.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rate limits must be counted where every web process sees them: Redis when there is one, else
# a table in the database (a migration makes it), never one process's memory.
CACHES["throttle"] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "throttle"}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "closedloop_throttle"}
)

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account or address is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "closedloop.lib.roles.ManagerPermissionsBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT") or BASE_DIR / "staticfiles")
# collectstatic (run by `manage.py serve`, and on deploy) writes hashed, compressed copies that
# whitenoise serves with far-future cache headers.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Email: EMAIL_URL (smtp://user:pass@host:port, submission://... for STARTTLS), or
# EMAIL_HOST/EMAIL_PORT; the console backend when neither is set. SMTP goes through Django's
# backend as closedloop.lib.mail extends it (the outboxes read each message's verdict late).
SMTP_BACKEND = "closedloop.lib.mail.EmailBackend"
EMAIL_URL = envstr("EMAIL_URL")
if EMAIL_URL:
    email_config = dj_email_url.parse(EMAIL_URL)
    if email_config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
        email_config["EMAIL_BACKEND"] = SMTP_BACKEND
    vars().update(email_config)
elif envstr("EMAIL_HOST"):
    EMAIL_BACKEND = SMTP_BACKEND
    EMAIL_HOST = envstr("EMAIL_HOST")
    EMAIL_PORT = envint("EMAIL_PORT", 25)
    EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "closedloop <noreply@localhost>")
# An address whose mail means "unsubscribe me" (List-Unsubscribe mailto:); empty: the link alone.
UNSUBSCRIBE_MAILTO = envstr("UNSUBSCRIBE_MAILTO")

HELPDESK_WEBHOOK_SECRET = envstr("HELPDESK_WEBHOOK_SECRET")
# The survey a help desk's solved tickets are invited to (empty: the one active transactional survey).
HELPDESK_SURVEY = envstr("HELPDESK_SURVEY")
# Outgoing webhooks go to public addresses only; an on-premises help desk on a private network
# (or loopback) needs this. Link-local (the cloud metadata service) and the rest stay refused.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = envbool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)
# One webhook attempt (connecting, sending, the answer) takes at most this long; the delivery
# lease follows it, so a crashed worker's deliveries are due again 2 x this + 10 s later.
WEBHOOKS_TIMEOUT_SECONDS = envint("WEBHOOKS_TIMEOUT_SECONDS", 10)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "closedloop.lib.roles.TokenWithRolesAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "closedloop.lib.pagination.StandardPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "closedloop.lib.exceptions.api_exception_handler",
    # JSON refusing duplicate keys, non-finite numbers and deep nesting; forms as DRF reads them.
    "DEFAULT_PARSER_CLASSES": [
        "closedloop.lib.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "closedloop API",
    "DESCRIPTION": "Closed-loop NPS follow-up: ingestion, NPS, cases, root causes, improvements.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A code's source (agent, manager, ...) keeps the name SourceEnum; a suggestion's gets its own;
    # an improvement's status is one choice set wherever it appears (its field, a history step's "to").
    "ENUM_NAME_OVERRIDES": {
        "SourceEnum": "followups.models.coding.ResponseRootCause.Source",
        "SuggestionSourceEnum": "followups.models.suggestions.SuggestionDecision.Source",
        "ImprovementStatusEnum": "followups.improvement_status.ImprovementStatus.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "closedloop.lib.openapi.document_error_responses",
    ],
}

# Task cluster. The ORM broker acknowledges tasks (a killed worker's task is delivered again
# after `retry` seconds), so it is the default; Redis is faster but can lose a task on a crash.
# `timeout` must stay below `retry`, or a long task runs twice. The outbox rows a killed delivery
# task had claimed do not wait for `retry`: they are due when their lease ends (under a minute)
# and the next run takes them: the every-minute schedule, or the enqueue of the next change.
# `timeout` must also outlast a delivery run (at most two minutes and one lease), or the cluster
# kills it mid-send.
Q_BROKER = envstr("Q_BROKER", "orm")
if Q_BROKER not in {"orm", "redis"}:
    raise ImproperlyConfigured(f"Q_BROKER={Q_BROKER!r} must be orm or redis")
Q_CLUSTER: dict[str, Any] = {
    "name": "closedloop",
    "workers": envint("Q_WORKERS", 2),
    "timeout": envint("Q_TIMEOUT", 300),
    "retry": envint("Q_RETRY", 360),
    # A cluster takes a task off the shared queue only when it can start it soon: tasks it took
    # ahead of its busy workers would wait there while another cluster sits idle.
    "queue_limit": envint("Q_WORKERS", 2),
    "bulk": 1,
    "poll": 1,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "sync": envbool("Q_SYNC", False),
    "orm": "default",
}
if Q_BROKER == "redis":
    if not REDIS_URL:
        raise ImproperlyConfigured("Q_BROKER=redis needs REDIS_URL")
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured("Q_TIMEOUT must be below Q_RETRY, or long tasks run twice")

# Follow-up cases: responses older than this open no case (an import of last year's answers
# should not flood the queue); comments with these words make a case hot; the customer
# attribute that names an account owner who takes their customers' cases (empty: off).
FOLLOWUP_MAX_AGE_DAYS = envint("FOLLOWUP_MAX_AGE_DAYS", 30)
HOT_KEYWORDS = envlist("HOT_KEYWORDS", ["cancel", "lawyer", "switching provider"])
ACCOUNT_OWNER_ATTRIBUTE = envstr("ACCOUNT_OWNER_ATTRIBUTE", "account_owner")

# Survey fatigue: nobody is invited again within this many days of being asked by any survey
# (a survey's own quarantine may be longer); customers or accounts with these tags are never
# surveyed. A survey link stays valid this many days.
SURVEY_MINIMUM_QUARANTINE_DAYS = envint("SURVEY_MINIMUM_QUARANTINE_DAYS", 30)
SURVEY_EXCLUDED_TAGS = envlist("SURVEY_EXCLUDED_TAGS", ["internal", "partner"])
INVITATION_VALID_DAYS = envint("INVITATION_VALID_DAYS", 30)
# A detractor whose case was resolved is invited to a check-in this many days later (0: never),
# to RECOVERY_SURVEY (empty: the survey they answered).
RECOVERY_CHECK_DAYS = envint("RECOVERY_CHECK_DAYS", 7)
RECOVERY_SURVEY = envstr("RECOVERY_SURVEY")

# A large fan-out of customer updates is delivered by this many runs at once, which the workers
# of every cluster share.
DELIVERY_PARALLEL_RUNS = envint("DELIVERY_PARALLEL_RUNS", 4)
# Each of those runs hands over to a successor on the task queue this often, so a cluster that
# started late (or has free workers) takes its share.
DELIVERY_RELAY_SECONDS = envint("DELIVERY_RELAY_SECONDS", 10)

# Customers with no response and no change for this many months are anonymised by a daily
# task, as an erasure request would (0: kept until erased on request).
CUSTOMER_RETENTION_MONTHS = envint("CUSTOMER_RETENTION_MONTHS", 0)

# CSV import: files above this many bytes are refused by the upload page.
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", 20 * 1024 * 1024)

# LOG_FORMAT=json writes one JSON object a line (time, level, logger, message, exception) for
# log collectors; text stays readable in a terminal.
LOG_FORMAT = envstr("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger", "exc_info": "exception"},
            "timestamp": "time",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# /metrics answers managers signed in, and scrapers sending `Authorization: Bearer $METRICS_TOKEN`.
METRICS_TOKEN = envstr("METRICS_TOKEN")

# Behind a TLS proxy: trust its X-Forwarded-Proto, send plain-HTTP visitors to HTTPS (except
# the load balancer's health probe) and tell browsers to use nothing but HTTPS from then on.
BEHIND_TLS_PROXY = envbool("BEHIND_TLS_PROXY", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Every script and style comes from the product's own static files (Swagger UI's too), so the
# policy allows nothing inline and nothing from elsewhere; Swagger UI draws its icons as data: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Brute-force protection (closedloop.throttling). django-axes counts failed sign-ins in the
# database per account and per client address, on every path through authenticate(). A lockout
# ends SIGN_IN_LOCKOUT_MINUTES after the failure that caused it: attempts during it neither count
# nor extend it, so an attacker cannot keep a real user out for longer. A successful sign-in does
# not wipe the counts: any valid account would otherwise reset its address's count between guesses.
AXES_FAILURE_LIMIT = envint("SIGN_IN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=envint("SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "closedloop.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "closedloop.throttling.sign_in_locked_out"
# Failed attempts are kept; a row for every successful sign-in would grow without a reader.
AXES_DISABLE_ACCESS_LOG = True
RATELIMIT_USE_CACHE = "throttle"
RATELIMIT_IP_META_KEY = "closedloop.throttling.rate_limit_address"
