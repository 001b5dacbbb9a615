"""Django settings for Banli. Every value comes from the environment via banli.env.

The default needs nothing set: SQLite in ./var, in-process tasks, local files.
Set DATABASE_URL=postgres://... for PostgreSQL and CELERY_BROKER_URL=redis://... for workers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from banli.env import SettingError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("BANLI_VAR_DIR", str(BASE_DIR / "var")))

TESTING = "pytest" in sys.modules or env_bool("BANLI_TESTING")
DEBUG = env_bool("DEBUG", False)
DEMO_MODE = env_bool("BANLI_DEMO", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY and DEMO_MODE:
    # The demo needs nothing set: keep a random key beside the SQLite file. Outside demo mode SECRET_KEY must be set
    # (checked in the security block at the end).
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
elif SECRET_KEY and len(SECRET_KEY) < 32:
    raise SettingError("SECRET_KEY must be at least 32 characters long")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A form sent from a stale page gets a Chinese page that says what to do, not Django's English one.
CSRF_FAILURE_VIEW = "banli.core.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "banli.core",
    "banli.organizations",
    "banli.proposals",
    "banli.handling",
    "banli.replies",
    "banli.supervision",
    "banli.reports",
    "banli.assist",
    "banli.portal",
    "banli.workbench",
    "banli.demo",
    "banli.exchange",
    "banli.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "banli.core.sessions.ThrottledSessionMiddleware",  # Django's, saving an unchanged session once a minute
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "banli.workbench.middleware.HtmxLoginRedirectMiddleware",
    "banli.core.context.RequestContextMiddleware",
    "banli.core.security.SecurityEventMiddleware",
    "axes.middleware.AxesMiddleware",
    "banli.core.auth.SignInGuardMiddleware",
    "banli.core.middleware.DomainErrorMiddleware",
    "banli.core.ratelimit.RateLimitMiddleware",
    "banli.workbench.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "banli.urls"
WSGI_APPLICATION = "banli.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "banli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "banli.workbench.context.workbench",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    except Exception as exc:  # dj_database_url raises several types
        raise SettingError(f"DATABASE_URL={DATABASE_URL!r} cannot be parsed: {exc}") from exc
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "banli.sqlite3")),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
            # A file, not shared-cache memory, so that tests racing two threads see real SQLite locking; one per
            # test run, so that two runs in one checkout do not share (and delete) each other's database.
            "TEST": {"NAME": str(VAR_DIR / f"test-banli-{os.getpid()}.sqlite3")},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organizations.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "banli.demo.auth.DemoModeModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "banli.workbench.validators.ComplexityValidator"},
    {"NAME": "banli.workbench.validators.DemoPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
# Our own catalogue fills the few strings Django's zh_Hans one leaves in English (admin screen-reader headers).
LOCALE_PATHS = [BASE_DIR / "banli" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage" if not TESTING else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATICFILES_DIRS = [BASE_DIR / "banli" / "static"]
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# Second factor (TOTP) is required for the assigning office and administrators when this is on: by default outside
# demo mode (等保 2.0 level 3), off in the demo.
BANLI_REQUIRE_2FA = env_bool("BANLI_REQUIRE_2FA", not DEMO_MODE)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "办理 Banli")

# Single sign-on with the government's unified identity platform (OpenID Connect). Off unless configured.
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_ENABLED = bool(OIDC_OP_AUTHORIZATION_ENDPOINT) or env_bool("OIDC_ENABLED", False)
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid profile")
BANLI_OIDC_USER_CLAIM = env_str("BANLI_OIDC_USER_CLAIM", "preferred_username")
BANLI_OIDC_USER_FIELD = env_str("BANLI_OIDC_USER_FIELD", "username")
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("banli.core.auth.BanliOIDCBackend")
if BANLI_OIDC_USER_FIELD not in ("username", "email"):
    raise SettingError("BANLI_OIDC_USER_FIELD must be username or email")

# Behind HTTPS: HSTS, secure cookies and redirects. Off for the embedded http://127.0.0.1 default.
BANLI_HTTPS = env_bool("BANLI_HTTPS", False)
if BANLI_HTTPS:
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Cache (rate limits, throttles): in-process by default, Redis when BANLI_CACHE_URL is set (several servers).
BANLI_CACHE_URL = env_str("BANLI_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": BANLI_CACHE_URL}
        if BANLI_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "banli"}
    )
}
RATELIMIT_USE_CACHE = "default"
BANLI_RATE_LOGIN = env_str("BANLI_RATE_LOGIN", "30/m")
BANLI_RATE_TOKEN = env_str("BANLI_RATE_TOKEN", "20/m")
BANLI_RATE_EXPORT = env_str("BANLI_RATE_EXPORT", "60/m")
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The assignment's covering indexes carry columns PostgreSQL reads from the index alone (the workbench's lists,
    # the overdue count per unit); SQLite builds them on their key columns only, which is all it needs.
    SILENCED_SYSTEM_CHECKS.append("models.W040")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workbench:home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
# The inactivity timeout counts from the last request, saved at most once per this many seconds (banli.core.sessions).
BANLI_SESSION_TOUCH_SECONDS = env_int("BANLI_SESSION_TOUCH_SECONDS", 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", BANLI_HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", BANLI_HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
BANLI_UPLOAD_MAX_BYTES = env_int("BANLI_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", not TESTING)
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "banli.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "EXCEPTION_HANDLER": "banli.api.errors.exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "banli.api.auth.TokenScopeAllows"],
    "DEFAULT_SCHEMA_CLASS": "banli.api.schema.BanliAutoSchema",
    # Integrators send JSON: a form encoding cannot say null, so the schema would promise what forms cannot carry.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Banli 办理 API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "banli.organizations.choices.UnitKind",
        "ProposalKindEnum": "banli.proposals.choices.ProposalKind",
    },
    "COMPONENT_SPLIT_REQUEST": True,
}

# Background work: in-process (eager) by default, Celery workers when a broker is set.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# Periodic jobs at scale (celery beat); the embedded default runs the same jobs with `manage.py run_scheduler`.
# The embedded scheduler's (run_scheduler) jobs of apps above supervision, by dotted path, run every tick.
BANLI_SCHEDULER_JOBS = {"figure_cells": "banli.reports.tasks.refresh_figure_cells_task"}

CELERY_BEAT_SCHEDULE = {
    "scan-deadlines": {"task": "banli.supervision.tasks.scan_deadlines_task", "schedule": 3600.0},
    "deliver-due": {"task": "banli.supervision.tasks.deliver_due_task", "schedule": 60.0},
    "refresh-figure-cells": {"task": "reports.refresh_figure_cells", "schedule": 60.0},
    "publish-replies": {"task": "banli.portal.tasks.publish_pending_task", "schedule": 3600.0},
    "assist-retrain": {"task": "assist.retrain_models", "schedule": crontab(hour=2, minute=30)},
    "assist-similar-index": {"task": "assist.similar_index_if_stale", "schedule": 3600.0},
    "sweep-orphan-files": {"task": "core.sweep_orphan_files", "schedule": crontab(hour=3, minute=15)},
    "weekly-digest": {
        "task": "banli.supervision.tasks.send_digests_task",
        "schedule": crontab(hour=8, minute=0, day_of_week="mon"),
        "args": ("weekly",),
    },
    "daily-digest": {
        "task": "banli.supervision.tasks.send_digests_task",
        "schedule": crontab(hour=8, minute=0),
        "args": ("daily",),
    },
}

# Default: mails are written as files to var/mail (inspectable, and `scan_deadlines` keeps its one JSON line).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "banli@localhost")
BANLI_BASE_URL = env_str("BANLI_BASE_URL", "http://127.0.0.1:8000")
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)

# Reminders (督办催办): thresholds in working days, escalation, channels, retries. Offices may override.
BANLI_WARNING_DAYS = [int(d) for d in env_list("BANLI_WARNING_DAYS", ["5", "1"])]
BANLI_KEY_WARNING_DAYS = [int(d) for d in env_list("BANLI_KEY_WARNING_DAYS", ["10", "5", "3", "1"])]
BANLI_ESCALATE_AFTER_DAYS = env_int("BANLI_ESCALATE_AFTER_DAYS", 3)
BANLI_FORCE_OVERDUE_CHANNELS = env_list("BANLI_FORCE_OVERDUE_CHANNELS", [])
BANLI_DELIVERY_MAX_ATTEMPTS = env_int("BANLI_DELIVERY_MAX_ATTEMPTS", 4)
BANLI_DELIVERY_RETRY_SECONDS = env_int("BANLI_DELIVERY_RETRY_SECONDS", 60)
BANLI_HTTP_TIMEOUT = env_int("BANLI_HTTP_TIMEOUT", 10)
BANLI_SMS_BACKEND = env_str("BANLI_SMS_BACKEND", "file")
BANLI_SMS_FILE = env_str("BANLI_SMS_FILE", str(VAR_DIR / "sms.log"))
BANLI_SMS_HTTP_URL = env_str("BANLI_SMS_HTTP_URL", "")
BANLI_SMS_HTTP_TOKEN = env_str("BANLI_SMS_HTTP_TOKEN", "")
BANLI_SMS_SIGN = env_str("BANLI_SMS_SIGN", "办理")
# The embedded scheduler (manage.py run_scheduler): how often it scans and sends, when digests go out.
BANLI_SCHEDULER_INTERVAL = env_int("BANLI_SCHEDULER_INTERVAL", 300)
BANLI_DIGEST_HOUR = env_int("BANLI_DIGEST_HOUR", 8)
BANLI_ASSIST_RETRAIN_HOURS = env_int("BANLI_ASSIST_RETRAIN_HOURS", 24)
# 相似提案 (banli.assist.simindex): up to this many proposals the first index is built in the request (seconds);
# beyond, in the background while the panel says so. More changes than DELTA_MAX since the index start a rebuild;
# more than DELTA_CAP are left out of the comparison (and the panel says so) until the rebuild is published.
BANLI_SIMILAR_INLINE_MAX = env_int("BANLI_SIMILAR_INLINE_MAX", 20000)
BANLI_SIMILAR_DELTA_MAX = env_int("BANLI_SIMILAR_DELTA_MAX", 2000)
BANLI_SIMILAR_DELTA_CAP = env_int("BANLI_SIMILAR_DELTA_CAP", 5000)
for _name, _days in (("BANLI_WARNING_DAYS", BANLI_WARNING_DAYS), ("BANLI_KEY_WARNING_DAYS", BANLI_KEY_WARNING_DAYS)):
    if not _days or any(d <= 0 for d in _days):
        raise SettingError(f"{_name} must be a comma-separated list of positive working-day counts")
if not set(BANLI_FORCE_OVERDUE_CHANNELS) <= {"email", "sms", "webhook"}:
    raise SettingError("BANLI_FORCE_OVERDUE_CHANNELS may only name email, sms, webhook")
if BANLI_SMS_BACKEND not in {"console", "file", "http"} and "." not in BANLI_SMS_BACKEND:
    raise SettingError("BANLI_SMS_BACKEND must be console, file, http or a dotted path to an SmsBackend class")

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Every test client builds its own middleware chain, and WhiteNoise, when it starts, reads every static file the
    # finders know (about 70 ms): over half the permission matrix's time, a client per role and URL. Autorefresh
    # (WhiteNoise's development mode) finds a static file when it is asked for instead: the same files and headers.
    WHITENOISE_AUTOREFRESH = True

# --- Security boundaries (issue 17, 等保 2.0 level 3) ------------------------------------------------------------
# Kept in one block on purpose. Outside demo mode (BANLI_DEMO unset) Banli refuses to start without its own keys;
# each error names the variable to set. The test suite gets throw-away keys from banli/settings_test.py.
_DEMO_FIELD_KEY = "banli-field-key-1"
_DEMO_EVENT_KEY = "banli-demo-event-key-not-secret"
_MIN_KEY_CHARS = 16
_KEY_HINT = "generate one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\""

if not SECRET_KEY:
    raise SettingError(
        "SECRET_KEY is not set. Outside demo mode (BANLI_DEMO unset) Banli needs its own key of at least 32 "
        f"characters; {_KEY_HINT} (an instance that ran before keeps using the value in var/secret_key)"
    )


def _keys(name: str, demo_default: str) -> list[str]:
    keys = env_list(name, [])
    if not keys:
        if DEMO_MODE:
            return [demo_default]
        raise SettingError(f"{name} is not set. Outside demo mode (BANLI_DEMO unset) it must hold a key of your own; "
                           f"{_KEY_HINT}")
    if not DEMO_MODE and demo_default in keys:
        raise SettingError(f"{name} holds the built-in demo key, which is public: set a key of your own")
    if any(len(key) < _MIN_KEY_CHARS for key in keys):
        raise SettingError(f"{name}: every key must be at least {_MIN_KEY_CHARS} characters long")
    return keys


# Personal information (phone, ID number, address) is encrypted at rest. Keys derive from SECRET_KEY and
# BANLI_FIELD_KEYS (comma-separated; the first encrypts, all decrypt, so a new key can be rotated in front). An
# instance that ran with the demo key must keep it listed to read its old values (allowed in demo mode only).
SALT_KEY = _keys("BANLI_FIELD_KEYS", _DEMO_FIELD_KEY)
# The event log's hash chain is an HMAC with this key (kept outside the database, so write access to the database
# is not enough to rewrite history). The first key signs new rows; older ones still verify rows signed with them.
BANLI_EVENT_KEYS = _keys("BANLI_EVENT_KEY", _DEMO_EVENT_KEY)
# The daily anchor: the heads of every chain, appended to this file (and the `banli.anchor` logger, which LOGGING
# may route to syslog). Keep the file on another host or a write-once mount; `verify_events` checks against it.
BANLI_EVENT_ANCHOR_FILE = Path(env_str("BANLI_EVENT_ANCHOR_FILE", str(VAR_DIR / "event-anchors.jsonl")))
CELERY_BEAT_SCHEDULE["anchor-events"] = {"task": "handling.anchor_events", "schedule": crontab(hour=0, minute=30)}

# Client address: X-Forwarded-For is believed only from these proxies (comma-separated addresses or CIDR networks,
# e.g. "10.0.0.5,10.1.0.0/24"); empty means no proxy, the address is REMOTE_ADDR. django-axes, the rate limits and
# the event log all use banli.core.context.request_ip.
BANLI_TRUSTED_PROXIES = env_list("BANLI_TRUSTED_PROXIES", [])
for _entry in BANLI_TRUSTED_PROXIES:
    try:
        import ipaddress

        ipaddress.ip_network(_entry, strict=False)
    except ValueError as _exc:
        raise SettingError(f"BANLI_TRUSTED_PROXIES: {_entry!r} is not an IP address or network ({_exc})") from _exc
if env_str("BANLI_TRUST_X_FORWARDED_FOR"):
    raise SettingError("BANLI_TRUST_X_FORWARDED_FOR is no longer read: list the proxy addresses in "
                       "BANLI_TRUSTED_PROXIES instead (a header from anyone else is ignored)")
AXES_CLIENT_IP_CALLABLE = "banli.core.context.request_ip"
RATELIMIT_IP_META_KEY = "banli.core.context.request_ip"
# Lock an account after AXES_FAILURE_LIMIT failures from anywhere (guessing spread over many addresses), and an
# address for that account only: never every account behind one NAT or proxy address.
AXES_LOCKOUT_PARAMETERS = ["username", ["ip_address", "username"]]

# API tokens: stored as a hash, valid for this many days by default (a user may choose fewer), read or read-write.
BANLI_API_TOKEN_DAYS = env_int("BANLI_API_TOKEN_DAYS", 90)
if not 1 <= BANLI_API_TOKEN_DAYS <= 3650:
    raise SettingError("BANLI_API_TOKEN_DAYS must be between 1 and 3650")
# The OpenAPI document and the Swagger/ReDoc pages need a signed-in user unless this opens them.
BANLI_API_DOCS_PUBLIC = env_bool("BANLI_API_DOCS_PUBLIC", False)

# Backups are encrypted with age (pyrage) to these recipients (public keys "age1…", comma-separated); the host keeps
# only public keys, restoring needs the identity file (private key) brought from where it is kept offline.
BANLI_BACKUP_RECIPIENTS = env_list("BANLI_BACKUP_RECIPIENTS", [])
if any(not r.startswith("age1") for r in BANLI_BACKUP_RECIPIENTS):
    raise SettingError("BANLI_BACKUP_RECIPIENTS: each recipient must be an age public key starting with age1 "
                       "(create a key pair with: python manage.py backup_keygen)")
BANLI_BACKUP_IDENTITY_FILE = env_str("BANLI_BACKUP_IDENTITY_FILE", "")
# --- end of the security block --------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# =====================================================================================================
# Production serving, deployment and scale-out (issue 20). Kept in one block: everything below only adds
# to what is set above, and the embedded default (nothing set) behaves as before.
# =====================================================================================================
INSTALLED_APPS.append("banli.ops")

# Bounded database connections. The production server (banli/ops/gunicorn_conf.py) sets BANLI_DB_POOL_SIZE to its
# threads per worker, so one worker process never holds more connections than it can use at once and the total
# is workers x threads per web server; a request that finds the pool empty waits BANLI_DB_POOL_TIMEOUT seconds.
# Other processes (Celery workers, manage.py) keep one persistent connection per thread (DB_CONN_MAX_AGE).
BANLI_DB_POOL_SIZE = env_int("BANLI_DB_POOL_SIZE", 0)
BANLI_DB_POOL_TIMEOUT = env_int("BANLI_DB_POOL_TIMEOUT", 10)
# Every SQL statement of a web request is cut off after this many seconds (0: no limit); the server sets it to its
# request timeout, so a runaway query ends with the request instead of holding a connection.
BANLI_DB_STATEMENT_TIMEOUT = env_int("BANLI_DB_STATEMENT_TIMEOUT", 0)
# PostgreSQL's parallel workers per query (its max_parallel_workers_per_gather) on Banli's connections: none by
# default. Banli's statements are index reads that stop after a page, capped counts and maintained aggregates; when
# the planner misjudges how soon a LIMIT is reached (a searched word that one unit handles far more often than the
# average) it starts workers whose start-up costs more than the whole serial read, and each worker takes one of the
# server's few worker slots. Set on the connection, so no page pays a transaction of its own to set it; a machine
# that runs long scans (a recount in a worker) may raise it there.
BANLI_DB_PARALLEL_WORKERS = env_int("BANLI_DB_PARALLEL_WORKERS", 0)
# The ledger's rows statement is prepared on each connection (PostgreSQL keeps its plan: planning it cost as much as
# running it). Behind PgBouncer older than 1.21 (no max_prepared_statements) turn this off.
BANLI_DB_PREPARED_STATEMENTS = env_bool("BANLI_DB_PREPARED_STATEMENTS", True)
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL and not DATABASE_URL:
    raise SettingError("DATABASE_REPLICA_URL needs DATABASE_URL (a PostgreSQL primary) to be set as well")
if BANLI_DB_POOL_SIZE < 0 or BANLI_DB_STATEMENT_TIMEOUT < 0 or BANLI_DB_PARALLEL_WORKERS < 0:
    raise SettingError("BANLI_DB_POOL_SIZE, BANLI_DB_STATEMENT_TIMEOUT and BANLI_DB_PARALLEL_WORKERS must not be negative")


def _tune_postgres(database: dict) -> dict:
    if database.get("ENGINE") != "django.db.backends.postgresql":
        return database
    options = database.setdefault("OPTIONS", {})
    if BANLI_DB_POOL_SIZE and not TESTING:
        # Django's own psycopg pool requires CONN_MAX_AGE 0: the pool keeps the connections instead.
        database["CONN_MAX_AGE"] = 0
        options["pool"] = {"min_size": 1, "max_size": BANLI_DB_POOL_SIZE, "timeout": BANLI_DB_POOL_TIMEOUT,
                           "max_idle": 300}
    # Server settings for each connection, after any the DATABASE_URL gives (?options=…), which they override.
    server = [options.get("options", ""), f"-c max_parallel_workers_per_gather={BANLI_DB_PARALLEL_WORKERS}"]
    if BANLI_DB_STATEMENT_TIMEOUT:
        server.append(f"-c statement_timeout={BANLI_DB_STATEMENT_TIMEOUT * 1000}")
    options["options"] = " ".join(part for part in server if part)
    return database


if DATABASE_URL:
    DATABASES["default"] = _tune_postgres(DATABASES["default"])
    if DATABASE_REPLICA_URL:
        try:
            DATABASES["replica"] = _tune_postgres(
                dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)))
        except Exception as exc:  # dj_database_url raises several types
            raise SettingError(f"DATABASE_REPLICA_URL={DATABASE_REPLICA_URL!r} cannot be parsed: {exc}") from exc
        # Tests (and a replica that is the primary itself) read what the primary holds.
        DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# Reports, exports and the API's read lists read from the replica; a user who has just written reads the primary
# for this many seconds (a cookie), so he sees his own change even while the replica lags.
DATABASE_ROUTERS = ["banli.ops.routers.ReplicaRouter"]
BANLI_REPLICA_PIN_SECONDS = env_int("BANLI_REPLICA_PIN_SECONDS", 10)
BANLI_REPLICA_VIEWS = env_list("BANLI_REPLICA_VIEWS", [
    "reports:*", "exchange:ledger_xlsx", "exchange:ledger_csv", "api:*-list", "api:figures",
])
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware"),
                  "banli.ops.middleware.ReplicaMiddleware")

# Several web servers behave as one: with BANLI_CACHE_URL (Redis) the sessions are read from there, beside the
# rate-limit counters; sign-in failures (django-axes) are counted in the shared database either way. Sessions are
# written through to the database as well (cached_db): a Redis restart, a flush or an eviction under maxmemory
# must not sign every user out in the middle of his work.
SESSION_ENGINE = "banli.core.cached_sessions" if BANLI_CACHE_URL else "banli.core.sessions"

# Celery: one queue per kind of work, so workers on several machines can each take some kinds (see deploy/).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "banli.supervision.tasks.scan_deadlines_task": {"queue": "scan"},
    "banli.portal.tasks.publish_pending_task": {"queue": "scan"},
    "core.sweep_orphan_files": {"queue": "scan"},
    "banli.supervision.tasks.deliver_due_task": {"queue": "deliveries"},
    "banli.supervision.tasks.send_digests_task": {"queue": "deliveries"},
    "banli.supervision.tasks.*": {"queue": "deliveries"},
    "exchange.*": {"queue": "documents"},
    "banli.exchange.*": {"queue": "documents"},
    "banli.replies.*": {"queue": "documents"},
    "banli.reports.*": {"queue": "documents"},
    "assist.*": {"queue": "assist"},
    "banli.assist.*": {"queue": "assist"},
}
BANLI_CELERY_QUEUES = ["default", "scan", "deliveries", "documents", "assist"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a long import must not hold short deliveries queued behind it
CELERY_TASK_ACKS_LATE = True  # jobs are idempotent: a worker lost mid-task hands the task to another

# Static files: compressed (gzip, brotli) and content-hashed, served by WhiteNoise from STATIC_ROOT with
# far-future cache headers, once `collectstatic` has run (make serve and deploy/ do). The development and demo
# servers keep serving straight from the apps' folders.
BANLI_STATIC_HASHED = env_bool("BANLI_STATIC_HASHED", False)
if BANLI_STATIC_HASHED and not TESTING:
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    WHITENOISE_USE_FINDERS = False

# `manage.py check --deploy` clean under the production settings (banli/ops/tests/test_deploy.py):
# HSTS preloading is a promise to browsers for a public domain; an intranet host cannot be on the preload list,
# so it is off unless asked for, and then the check stays quiet about it only when that was a choice.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")
# The proposer's two ratings (办理态度, 办理结果) share one choice set: one enum in the OpenAPI document.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["RatingEnum"] = "banli.replies.choices.Rating"
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update({
    "AssignmentStateEnum": "banli.handling.choices.AssignmentState",
    "ReplyStateEnum": "banli.replies.choices.ReplyState",
    # The integrator's write endpoints (issue 17, point 16): one name per choice set.
    "RoleEnum": "banli.organizations.choices.Role",
    "AssignmentRoleEnum": "banli.handling.choices.AssignmentRole",
    "ProposerKindEnum": "banli.proposals.choices.ProposerKind",
    "RuleKindEnum": "banli.reports.choices.RuleKind",
})

# Load balancers and nginx's plain-HTTP server ask the health endpoints without TLS: answered, not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]

# The health endpoint calls the periodic jobs stopped when none has finished for this long (seconds).
BANLI_HEALTH_SCHEDULER_MAX_AGE = env_int("BANLI_HEALTH_SCHEDULER_MAX_AGE", 2 * 3600 + 600)
# A list import confirmed on the page runs as a background job (Celery, or a thread in the embedded mode).
BANLI_IMPORT_IN_BACKGROUND = env_bool("BANLI_IMPORT_IN_BACKGROUND", not TESTING)
# The similar-proposals index is rebuilt in a thread of the process when there is no broker (inline in tests).
BANLI_SIMILAR_IN_BACKGROUND = env_bool("BANLI_SIMILAR_IN_BACKGROUND", not TESTING)

# Structured logs: one JSON object per line (app and access logs) for the log collector; plain text otherwise.
BANLI_LOG_FORMAT = env_str("BANLI_LOG_FORMAT", "text")
if BANLI_LOG_FORMAT not in ("text", "json"):
    raise SettingError("BANLI_LOG_FORMAT must be text or json")
if BANLI_LOG_FORMAT == "json":
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "banli.ops.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "loggers": {"django.server": {"level": "WARNING"}},
    }
# Reminders go out within this many seconds of being due (celery beat's delivery round).
CELERY_BEAT_SCHEDULE["deliver-due"]["schedule"] = float(env_int("BANLI_BEAT_DELIVER_SECONDS", 60))
