"""Settings, read from the environment.

Nothing set gives the embedded default: SQLite in WAL mode under ``var/``, files on local disk,
jobs run in-process. ``DATABASE_URL``, ``REDIS_URL`` and ``YIWANG_S3_BUCKET`` switch to
PostgreSQL, Redis + Celery workers and S3-compatible object storage. See docs/configuration.md.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("YIWANG_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment; otherwise one generated once and kept under var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves the /api/docs assets locally (no CDN on a government intranet)
    "yiwang.identity.oauth_app.OAuthProviderConfig",  # django-oauth-toolkit, named in Chinese
    "yiwang.core",
    "yiwang.regions",
    "yiwang.catalog",
    "yiwang.identity",
    "yiwang.worktime",
    "yiwang.cases",
    "yiwang.workflow",
    "yiwang.bundles",
    "yiwang.exchange",
    "yiwang.supervision",
    "yiwang.portal",
    "yiwang.workbench",
    "yiwang.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A database outage is a 503 page / JSON problem, not a 500 (core/outage.py).
    "yiwang.core.outage.DatabaseOutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yiwang.core.middleware.ChineseFirstLocaleMiddleware",
    # A NUL in the path or query string is a 400 (a 422 in the API) before any view or query,
    # in the language the locale middleware just chose.
    "yiwang.core.middleware.NulCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Security headers and CSP (core/security.py); after XFrameOptions so it reads the final value.
    "yiwang.core.security.SecurityHeadersMiddleware",
    # Rate limits on registration, search and uploads (YIWANG_RATE_LIMITS below).
    "yiwang.core.security.RateLimitMiddleware",
    "yiwang.core.middleware.AuditContextMiddleware",
    # After the audit context, so a timeout's audit entry names the person (identity.sessions).
    "yiwang.identity.middleware.SessionTimeoutMiddleware",
    # Administrators need a two-factor (acr 3) session for /admin/ (docs/identity-security.md).
    "yiwang.identity.middleware.AdminSecondFactorMiddleware",
]

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.portal.context_processors.portal",
                "yiwang.core.security.csp_context",  # {{ csp_nonce }} (docs/security.md)
            ],
        },
    },
    {
        # Django's Jinja2 backend for the partials a page renders many times over, from the
        # apps' jinja2/ directories (core/jinja2.py); every other template is Django's.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "yiwang.core.jinja2.environment"},
    },
]

# --- database -------------------------------------------------------------------------------
# Django's health check (``CONN_HEALTH_CHECKS``) costs a ``SELECT 1`` round trip at the start of
# every request. Off by default: before each request and each job, ``core.dbcheck`` drops a kept
# connection the server has closed (a restart, a failover, ``pg_terminate_backend``) by looking
# at its socket, and Django closes at the end of a request a connection that failed during it.
# DB_CONN_HEALTH_CHECKS=1 adds Django's check (a connection lost without the server closing it).
DB_CONN_HEALTH_CHECKS = env_bool("DB_CONN_HEALTH_CHECKS", default=False)
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.config(
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            conn_health_checks=DB_CONN_HEALTH_CHECKS,
        )
    }
    DATABASES["default"].setdefault("OPTIONS", {})
    if (
        DATABASES["default"]["ENGINE"].endswith("postgresql")
        and os.environ.get("DB_PREPARED_STATEMENTS", "1") != "0"
    ):
        # Server-side binding lets psycopg prepare a statement on its fifth run on a connection,
        # so PostgreSQL plans the statements every request repeats once per connection instead
        # of on every run. Behind a pooler in transaction mode that cannot keep prepared
        # statements (PgBouncer before 1.21), set DB_PREPARED_STATEMENTS=0.
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("YIWANG_SQLITE_PATH", str(DATA_DIR / "yiwang.sqlite3")),
            # Kept per worker: each new connection runs the PRAGMAs below again. A file on local
            # disk does not go away under a connection: no health check needed.
            "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": DB_CONN_HEALTH_CHECKS,
            "OPTIONS": {
                # WAL lets readers go on while one writer commits; IMMEDIATE takes the write lock
                # at BEGIN so two writers queue instead of failing with "database is locked".
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=10000;PRAGMA cache_size=-65536;PRAGMA mmap_size=268435456;"
                    "PRAGMA temp_store=MEMORY;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
# A streaming replica (hot standby) for the reads that tolerate lag: dashboards, figures, open
# data. No router sends reads there: only the selectors that call ``core.replica`` use it, and
# ``core.replica.read_alias`` falls back to the primary when the replica is unreachable or lags
# more than YIWANG_REPLICA_MAX_LAG seconds (docs/deployment.md, "Read replica").
if os.environ.get("DATABASE_REPLICA_URL"):
    _primary = DATABASES["default"]
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=DB_CONN_HEALTH_CHECKS,
    )
    _replica_options = DATABASES["replica"].setdefault("OPTIONS", {})
    if DATABASES["replica"]["ENGINE"] == _primary["ENGINE"]:
        for _key, _value in _primary.get("OPTIONS", {}).items():
            _replica_options.setdefault(_key, _value)
    if DATABASES["replica"]["ENGINE"].endswith("postgresql"):
        # A replica that does not answer costs the page this long once, then the primary is
        # used until the next check (YIWANG_REPLICA_CHECK_SECONDS). ``?connect_timeout=`` in the
        # URL overrides it.
        _replica_options.setdefault("connect_timeout", int(os.environ.get("DB_REPLICA_CONNECT_TIMEOUT", "2")))
    # Tests see one database: the alias reads the test database of ``default``.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# Beyond this lag (seconds, measured on the replica) the primary is read instead; 0: no limit.
YIWANG_REPLICA_MAX_LAG = float(os.environ.get("YIWANG_REPLICA_MAX_LAG", "5"))
# The live dashboards (docs/supervision.md "Live dashboard"): how long their figures are cached
# per scope and language, how often an open stream looks at them (also the browser's reconnect
# delay), and how long a stream stays open under ASGI before the browser reconnects.
YIWANG_DASHBOARD_CACHE_SECONDS = float(os.environ.get("YIWANG_DASHBOARD_CACHE_SECONDS", "3"))
YIWANG_DASHBOARD_POLL_SECONDS = float(os.environ.get("YIWANG_DASHBOARD_POLL_SECONDS", "3"))
YIWANG_DASHBOARD_STREAM_SECONDS = float(os.environ.get("YIWANG_DASHBOARD_STREAM_SECONDS", "300"))
# How long one process trusts its last look at the replica (reachable, lag) before looking again.
YIWANG_REPLICA_CHECK_SECONDS = float(os.environ.get("YIWANG_REPLICA_CHECK_SECONDS", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- cache, jobs --------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # A stopped Redis makes cache calls miss, not fail (core/cache.py); short timeouts bound the wait.
    CACHES = {
        "default": {
            "BACKEND": "yiwang.core.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "RETRY_SECONDS": 5},
        },
        # Rate-limit counters (core/ratelimit.py): add + incr, atomic in Redis, shared by every node.
        "ratelimit": {
            "BACKEND": "yiwang.core.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "rl",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "RETRY_SECONDS": 5},
        },
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
    # Publishing happens after the commit in a request: fail fast when Redis is down (core/jobs.py
    # logs it; the periodic jobs resend). Workers wait for Redis as long as it takes.
    CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
    CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
    CELERY_BROKER_CONNECTION_MAX_RETRIES = None
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 1,
        # A job taken by a worker that then dies (SIGKILL, OOM) goes back to the queue after this.
        "visibility_timeout": int(os.environ.get("YIWANG_JOB_VISIBILITY_SECONDS", 600)),
        # Look for such jobs every 10 s (kombu's default scans every 10th sweep, ~100 s; the crash
        # test found a killed worker's jobs still waiting minutes later).
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
    # Acknowledge a job when it has run, not when it was taken: a killed worker's job runs again
    # (the jobs are idempotent: notices per case and kind, outbox rows marked sent).
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
else:
    # Each worker keeps its own; the default 300 entries would evict guides (two entries each).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "yiwang",
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
    # Celery still acquires a producer for an eager task; kombu logs a warning for every
    # connection whose URL names no host, so name the one the memory transport assumes.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# The periodic jobs (`celery -A yiwang beat`); each also exists as a `yiwang` command for cron.
CELERY_BEAT_SCHEDULE = {
    "sweep-workflow-timers": {"task": "yiwang.workflow.sweep_timers", "schedule": 60.0},
    "send-outbox": {
        "task": "cases.send_outbox",
        "schedule": float(os.environ.get("YIWANG_OUTBOX_EVERY", 60)),
    },
    "sweep-sessions": {"task": "identity.sweep_sessions", "schedule": 300.0},
    # Jobs kept in the database while Redis was down (core/jobs.py).
    "republish-jobs": {
        "task": "core.republish_jobs",
        "schedule": float(os.environ.get("YIWANG_REPUBLISH_EVERY", 30)),
    },
    # Notices whose after-commit job died with its web process (cases.notices.issue_missing),
    # left to the steps' own jobs for YIWANG_NOTICE_SWEEP_GRACE seconds first.
    "issue-missing-notices": {
        "task": "cases.issue_missing_notices",
        "schedule": float(os.environ.get("YIWANG_NOTICE_SWEEP_EVERY", 300)),
    },
    # Warning levels of running cases (supervision.services.sweep).
    # Seal the exchange log's new entries into its chain (exchange/log.py); the lag of the
    # daily exchange figures is this interval.
    "seal-exchange-log": {
        "task": "exchange.seal_log",
        "schedule": float(os.environ.get("YIWANG_EXCHANGE_SEAL_EVERY", 5)),
    },
    "sweep-warnings": {
        "task": "supervision.sweep_warnings",
        "schedule": float(os.environ.get("YIWANG_WARNING_SWEEP_EVERY", 900)),
    },
    # Overdue supervisory orders escalated (supervision.orders.escalate_overdue).
    "escalate-orders": {
        "task": "supervision.escalate_orders",
        "schedule": float(os.environ.get("YIWANG_ORDER_SWEEP_EVERY", 3600)),
    },
    # Ratings (好差评): one reminder per finished unrated case, overdue follow-ups escalated
    # (supervision.ratings.remind_unrated, escalate_overdue).
    "rating-jobs": {
        "task": "supervision.rating_jobs",
        "schedule": float(os.environ.get("YIWANG_RATING_SWEEP_EVERY", 3600)),
    },
    # Figure deltas summed into the day rollups (supervision.figures.fold): the figures' lag.
    "fold-figures": {
        "task": "supervision.fold_figures",
        "schedule": float(os.environ.get("YIWANG_FIGURES_FOLD_EVERY", 3)),
    },
    "poll-couriers": {
        "task": "cases.poll_couriers",
        "schedule": float(os.environ.get("YIWANG_COURIER_POLL_EVERY", 600)),
    },
}
CELERY_TIMEZONE = "Asia/Shanghai"
# A running case turns yellow once this share of its promised limit is used, or with one working
# day left (docs/supervision.md "Warnings").
YIWANG_WARNING_YELLOW_SHARE = os.environ.get("YIWANG_WARNING_YELLOW_SHARE", "0.8")
YIWANG_NOTICE_SWEEP_GRACE = int(os.environ.get("YIWANG_NOTICE_SWEEP_GRACE", 120))
# The platform's public address: QR codes on documents carry it whole (``/verify/…`` on it), as a
# phone that scans a paper has no page to resolve a relative path against. Unset, it is the
# address ``yiwang serve`` listens on (the command sets it), else the one ``make demo`` serves.
YIWANG_PUBLIC_URL = (os.environ.get("YIWANG_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")

# --- processes -------------------------------------------------------------------------------------
# Group, lane and assignee names of uploaded BPMN diagrams mapped to yiwang step roles, beyond the
# built-in ones (the role codes and their Chinese names: workflow/bpmn_model.py). A JSON object,
# e.g. {"management": "department_head", "sales": "approver"} (docs/workflow.md).
YIWANG_BPMN_GROUP_ROLES: dict[str, str] = json.loads(os.environ.get("YIWANG_BPMN_GROUP_ROLES") or "{}")

# --- files ----------------------------------------------------------------------------------------
MEDIA_ROOT = Path(os.environ.get("YIWANG_MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("YIWANG_STATIC_ROOT", DATA_DIR / "static"))
if os.environ.get("YIWANG_S3_BUCKET"):
    _s3 = {
        "bucket_name": os.environ["YIWANG_S3_BUCKET"],
        "endpoint_url": os.environ.get("YIWANG_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("YIWANG_S3_REGION") or None,
        "access_key": os.environ.get("YIWANG_S3_ACCESS_KEY") or None,
        "secret_key": os.environ.get("YIWANG_S3_SECRET_KEY") or None,
        "default_acl": None,
        "querystring_auth": True,
    }
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("YIWANG_MANIFEST_STATIC", default=False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start otherwise
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_MANIFEST_STRICT = False
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A file over YIWANG_MAX_UPLOAD_BYTES stops being kept at once (cases.uploads).
FILE_UPLOAD_HANDLERS = [
    "yiwang.cases.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
YIWANG_MAX_IMPORT_BYTES = int(os.environ.get("YIWANG_MAX_IMPORT_BYTES", 20 * 1024 * 1024))


def _promise_cap_percent() -> int | None:
    """YIWANG_PROMISE_CAP_PERCENT: a province's cap on promised time limits as a share of the
    statutory ones (Fujian: 60); unset or empty, no cap beyond the statutory limit itself."""
    raw = os.environ.get("YIWANG_PROMISE_CAP_PERCENT", "").strip().rstrip("%")
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"YIWANG_PROMISE_CAP_PERCENT must be a whole number from 1 to 100, not {raw!r}"
        )
    return value


# Checked when an item version is published (catalog/rules.py), from any path.
YIWANG_PROMISE_CAP_PERCENT = _promise_cap_percent()
# Materials taken from where they are instead of uploaded, tried in order (docs/cases.md,
# docs/exchange.md): the holder's valid e-certificate first, then the verified account.
YIWANG_MATERIAL_PROVIDERS = [
    "yiwang.exchange.providers.ECertificateProvider",
    "yiwang.cases.providers.AccountProvider",
]
# The carrier adapter for courier delivery (cases/courier.py); the default is the FAKE one.
YIWANG_COURIER = os.environ.get("YIWANG_COURIER", "yiwang.cases.courier.FakeCourier")
# Close a case when the polled carrier reports its result delivered.
YIWANG_COURIER_CLOSE_ON_DELIVERY = env_bool("YIWANG_COURIER_CLOSE_ON_DELIVERY", default=True)

# --- language and time ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- security -------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    # People's passwords: Argon2id, OWASP's parameters (identity/hashers.py). The others read
    # hashes made before, each rewritten with the first at its owner's next sign-in.
    "yiwang.identity.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "yiwang.identity.oidc.hashers.ClientSecretHasher",  # OIDC client secrets only
]
# Argon2id cost of people's passwords (OWASP's parameters; identity/hashers.py).
YIWANG_ARGON2_TIME_COST = int(os.environ.get("YIWANG_ARGON2_TIME_COST", "2"))
YIWANG_ARGON2_MEMORY_KIB = int(os.environ.get("YIWANG_ARGON2_MEMORY_KIB", str(19 * 1024)))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions. With Redis, Django's cached_db store: a signed-in request reads its session from the
# cache and the database only on a miss; every save and every delete goes to both, so a session
# ended anywhere (logout, "log out everywhere", a timeout, an OpenID Connect logout) is gone for
# every process. Without Redis, the database store of identity/backends.py: a local-memory cache
# is each worker process's own, and a session deleted through one worker would live on in the
# others' memory. Both keep the same rows, so switching loses no session. A session whose
# ``_auth_user_backend`` is not in AUTHENTICATION_BACKENDS (Django's own ModelBackend, named by
# older releases) is anonymous: the person signs in again.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "yiwang.identity.backends"
AUTHENTICATION_BACKENDS = ["yiwang.identity.backends.ModelBackend"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("YIWANG_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Production switches (docs/deployment.md, docs/security.md): YIWANG_SECURE_COOKIES=1 behind
# HTTPS turns on secure cookies and HSTS; YIWANG_TRUST_PROXY=1 when a load balancer terminates
# TLS and sets X-Forwarded-Proto / X-Forwarded-For.
YIWANG_TRUST_PROXY = env_bool("YIWANG_TRUST_PROXY", default=False)
if YIWANG_TRUST_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("YIWANG_SSL_REDIRECT", default=SESSION_COOKIE_SECURE)
# Health checks from the load balancer come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^hello/$", r"^api/health$"]
SECURE_HSTS_SECONDS = int(os.environ.get("YIWANG_HSTS_SECONDS", 31536000 if SESSION_COOKIE_SECURE else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("YIWANG_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0)
# Preload only lets the domain be submitted to browsers' HSTS lists; submitting is a separate step.
SECURE_HSTS_PRELOAD = env_bool("YIWANG_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS > 0)
# Path regexes whose pages get style-src 'unsafe-inline' (core/security.py). Empty: every page,
# the bpmn-js diagram included, works with hashed or nonced styles (tests/security).
YIWANG_CSP_INLINE_STYLE_PATHS: list[str] = []
# Per-client rate limits (core/security.py): (name, methods, path regex, "count/period").
# "UPLOAD" means any multipart POST. Set YIWANG_RATE_<NAME>=off to lift one (load tests).
# Generous per address: mobile carriers put many people behind one address (CGNAT).
YIWANG_RATE_LIMITS = [
    ("register", "POST", r"^/account/register/", os.environ.get("YIWANG_RATE_REGISTER", "30/h")),
    ("search", "GET", r"^/search/$", os.environ.get("YIWANG_RATE_SEARCH", "240/m")),
    ("upload", "UPLOAD", r"^/", os.environ.get("YIWANG_RATE_UPLOAD", "60/m")),
]
# SMS provider for one-time codes (identity/sms.py): the dotted path of the province's adapter.
# Without one, the FAKE gateway (messages kept, shown on /account/demo-sms/ for the demo's own
# phones) is used only when YIWANG_FAKE_SMS is on, by default only under DEBUG; otherwise no
# code can be sent. Never turn YIWANG_FAKE_SMS on in production.
YIWANG_SMS_GATEWAY = os.environ.get("YIWANG_SMS_GATEWAY", "")
YIWANG_FAKE_SMS = env_bool("YIWANG_FAKE_SMS", default=DEBUG)
# One-time codes: lifetime and attempts; registrations that send a code, per ID number (keyed
# hash) and per client address ("off" lifts one).
YIWANG_PHONE_CODE_SECONDS = int(os.environ.get("YIWANG_PHONE_CODE_SECONDS", 300))
YIWANG_PHONE_CODE_ATTEMPTS = int(os.environ.get("YIWANG_PHONE_CODE_ATTEMPTS", 5))
YIWANG_RATE_REGISTER_ID = os.environ.get("YIWANG_RATE_REGISTER_ID", "3/h")
YIWANG_RATE_REGISTER_ADDRESS = os.environ.get("YIWANG_RATE_REGISTER_ADDRESS", "10/h")
# Where the rate limits above, the API's and the case lookup's count (core/ratelimit.py): "cache"
# (the "ratelimit" cache alias, Redis) or "database" (a table every process shares). Never a
# per-process memory: with several workers each would allow the whole rate.
YIWANG_RATE_LIMIT_STORE = os.environ.get("YIWANG_RATE_LIMIT_STORE", "cache" if REDIS_URL else "database")
# Unified login (identity.views_auth): throttling per account and IP, TOTP, tracked sessions.
LOGIN_URL = "/auth/login/"
# Path prefixes of pages only a signed-in reader sees: signing out from one of them returns to
# the portal home instead (identity.views_auth.logout_view); every other page is its own public
# version.
YIWANG_SIGNED_IN_PATHS = (
    "/my/",
    "/apply/",
    "/bundles/d/",
    "/account/",
    "/auth/",
    "/o/",
    "/workbench/",
    "/admin/",
)
# Sessions end after 30 minutes without a request and after 12 hours in any case.
YIWANG_SESSION_IDLE_SECONDS = int(os.environ.get("YIWANG_SESSION_IDLE_SECONDS", 30 * 60))
YIWANG_SESSION_ABSOLUTE_SECONDS = int(os.environ.get("YIWANG_SESSION_ABSOLUTE_SECONDS", 12 * 3600))
# The session cookie does not outlive the absolute timeout.
SESSION_COOKIE_AGE = YIWANG_SESSION_ABSOLUTE_SECONDS

# Every log record is masked as it is created (ID and phone numbers in any spelling), whichever
# logger makes it and whichever handler writes it (core/crypto.py: configure_logging); the
# handler filter masks records made before the factory was installed.
LOGGING_CONFIG = "yiwang.core.crypto.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "yiwang.core.crypto.MaskingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_personal_data"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- OpenID Connect provider (django-oauth-toolkit) ----------------------------------------------


def _oidc_private_key() -> str:
    """The RSA key that signs ID tokens: from the environment, else generated once under var/."""
    if key := os.environ.get("OIDC_RSA_PRIVATE_KEY"):
        return key
    path = DATA_DIR / "oidc_rsa_key.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return path.read_text()


OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_private_key(),
    "PKCE_REQUIRED": True,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    # yiwang's validator: per-client scopes, acr/amr/sid/auth_time and company claims (identity.oidc).
    "OAUTH2_VALIDATOR_CLASS": "yiwang.identity.oidc.validator.YiwangOAuth2Validator",
    # A fixed issuer behind a load balancer (else derived from the request's host).
    "OIDC_ISS_ENDPOINT": os.environ.get("YIWANG_OIDC_ISSUER", ""),
    # RFC 9700: S256 only, no implicit or password grant, no access token in a query string.
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    # Client secrets are long random strings: one salted round (identity/oidc/hashers.py).
    "CLIENT_SECRET_HASHER": "client_pbkdf2_sha256",
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 8 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "SCOPES": {
        "openid": "OpenID Connect 登录",
        "profile": "姓名、脱敏身份证号、认证等级",
        "phone": "脱敏手机号",
        "company": "代理的法人及授权范围",
        "account": "读取本人账户数据（API）",
        # Department systems (client credentials): the exchange API. What a client may read is
        # decided per call by its department's live grants, not by scopes (docs/exchange.md).
        "exchange": "数据共享交换接口（部门系统）",
    },
    "DEFAULT_SCOPES": ["openid", "profile"],
    # What the RFC 8414 and OpenID discovery documents advertise: what is served, no more.
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token", "client_credentials"],
}
# RFC 9700 (OAuth 2.0 security BCP) hardening that `check --deploy` asks for (issue 6,
# docs/security.md): the `iss` authorization-response parameter (mix-up attacks), tokens stored
# hashed, refresh-token replay revoking the whole family. Plain-http redirect URIs (loopback RPs
# during development) only when cookies are not secure, i.e. never in production.
OAUTH2_PROVIDER.update(
    {
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": SESSION_COOKIE_SECURE,
    }
)
if SESSION_COOKIE_SECURE:
    OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"] = ["https"]

# --- serving ------------------------------------------------------------------------------------
# Web processes (yiwang.wsgi, core/serving.py): the garbage collector's youngest-generation
# threshold, set after gc.freeze() of what the process loaded at start. CPython's default, 700,
# makes a page's short-lived objects set off collections many times a request. 0 keeps
# CPython's defaults.
YIWANG_GC_THRESHOLD = int(os.environ.get("YIWANG_GC_THRESHOLD", "50000"))

# --- yiwang -------------------------------------------------------------------------------------
# A guide page looks its current version up at most once per this many seconds per worker.
YIWANG_GUIDE_HEAD_TTL = float(os.environ.get("YIWANG_GUIDE_HEAD_TTL", "2"))
# Search result pages kept in the shared cache; any write to the index moves on to new keys
# (catalog/search/results_cache.py). 0 turns it off, the default without Redis: a local-memory
# cache is each worker's own, and another worker would not see a publication move the keys.
YIWANG_SEARCH_CACHE_SECONDS = int(os.environ.get("YIWANG_SEARCH_CACHE_SECONDS", "60" if REDIS_URL else "0"))
# The exchange API: calls per department system (ExchangeClient.rate_limit overrides), and how
# long an answer is kept for a request id sent again.
YIWANG_EXCHANGE_RATE = os.environ.get("YIWANG_EXCHANGE_RATE", "600/m")
YIWANG_EXCHANGE_ANSWER_HOURS = int(os.environ.get("YIWANG_EXCHANGE_ANSWER_HOURS", "24"))
YIWANG_PROVINCE_CODE = os.environ.get("YIWANG_PROVINCE_CODE", "350000")
YIWANG_PLATFORM_NAME = _("一网通办政务服务平台")
