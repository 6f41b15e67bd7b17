"""Agora settings: one file, every value from the environment with a safe embedded default.

Every variable read here is documented in docs/configuration.md. Agora runs with no external
service at all (SQLite, in-process cache, console SMS backend); production sets DATABASE_URL,
REDIS_URL, MQTT_URL and SECRET_KEY.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from agora.lib.env import EnvError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "agora-dev-insecure-secret-key-change-me-0123456789abcdef"  # noqa: S105 (development default, documented)
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET and env_bool("AGORA_REQUIRE_SECRET", False):
    raise EnvError("SECRET_KEY must be set when AGORA_REQUIRE_SECRET is true")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "django_tasks_db",
    "agora.core",
    "agora.accounts",
    "agora.district",
    "agora.members",
    "agora.coupons",
    "agora.points",
    "agora.checkout",
    "agora.navigation",
    "agora.parking",
    "agora.portal",
    "agora.console",
]

MIDDLEWARE = [
    "agora.core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "agora.core.middleware.LanguageCookieMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "agora.urls"
WSGI_APPLICATION = "agora.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "portal:staff-login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "agora" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agora.portal.context.portal",
            ],
        },
    }
]

# --- database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'agora.sqlite3'}")
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 600, minimum=0)
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # WAL, immediate transactions and a busy timeout: concurrent writers wait instead of
        # failing with "database is locked" (see docs/adr/0002-sqlite-default.md).
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20, minimum=1),
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    _db["TEST"] = {"NAME": env_str("SQLITE_TEST_NAME", "") or None}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["OPTIONS"] = {"connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, rate limits ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "agora"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- device events (used by the sensors/parking/footfall modules) -------------------------
MQTT_URL = env_str("MQTT_URL", "mqtt://127.0.0.1:1883")
MQTT_TOPIC_PREFIX = env_str("MQTT_TOPIC_PREFIX", "agora")
# live free spaces: one server-sent-events stream lasts this long, checking every POLL_MS
PARKING_STREAM_SECONDS = env_int("PARKING_STREAM_SECONDS", 25)
PARKING_STREAM_POLL_MS = env_int("PARKING_STREAM_POLL_MS", 1000)

# --- background jobs ---------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- accounts and SMS --------------------------------------------------------------------
SMS_BACKEND = env_str("SMS_BACKEND", "agora.accounts.sms.ConsoleSmsBackend")
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 600, minimum=60)
if SMS_CODE_TTL_SECONDS > 600:
    raise EnvError("SMS_CODE_TTL_SECONDS must be at most 600 (OWASP ASVS: codes live <= 10 min)")
SMS_CODE_MAX_PER_HOUR = env_int("SMS_CODE_MAX_PER_HOUR", 5, minimum=1)
SMS_CODE_MIN_INTERVAL_SECONDS = env_int("SMS_CODE_MIN_INTERVAL_SECONDS", 60, minimum=0)
SMS_CODE_MAX_ATTEMPTS = env_int("SMS_CODE_MAX_ATTEMPTS", 5, minimum=1)
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30, minimum=1)
PRIVACY_POLICY_VERSION = env_str("PRIVACY_POLICY_VERSION", "2026-11")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_HASHERS = env_list(
    "PASSWORD_HASHERS",
    [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ],
)

# --- payments (agora.checkout) -----------------------------------------------------------
# The built-in sandbox takes every online method unless a real provider is configured; its
# notifications are signed with this secret (HMAC-SHA256) like a real provider's.
PAYMENT_SANDBOX_SECRET = env_str("PAYMENT_SANDBOX_SECRET", "agora-sandbox-" + SECRET_KEY[:24])
PAYMENT_PROVIDERS: dict[str, dict[str, object]] = {
    "sandbox": {
        "class": "agora.checkout.providers.sandbox.SandboxProvider",
        "secret": PAYMENT_SANDBOX_SECRET,
        # chance that a notification is sent twice / only later by the delivery job
        "duplicate_rate": float(env_str("PAYMENT_SANDBOX_DUPLICATE_RATE", "0.2")),
        "late_rate": float(env_str("PAYMENT_SANDBOX_LATE_RATE", "0.1")),
    },
}
PAYMENT_ROUTES = {
    "wechat": env_str("PAYMENT_ROUTE_WECHAT", "sandbox"),
    "alipay": env_str("PAYMENT_ROUTE_ALIPAY", "sandbox"),
    "unionpay": env_str("PAYMENT_ROUTE_UNIONPAY", "sandbox"),
    "ecny": env_str("PAYMENT_ROUTE_ECNY", "sandbox"),
}
PAYMENT_TIMEOUT_MINUTES = env_int("PAYMENT_TIMEOUT_MINUTES", 15, minimum=1)
PAYMENT_NOTICE_MAX_AGE_SECONDS = env_int("PAYMENT_NOTICE_MAX_AGE_SECONDS", 300, minimum=30)
INVOICE_ISSUER = env_str("INVOICE_ISSUER", "agora.checkout.invoicing.LocalIssuer")
INVOICE_SELLER_NAME = env_str("INVOICE_SELLER_NAME", "Agora 智慧商圈演示运营有限公司")
INVOICE_SELLER_TAX_ID = env_str("INVOICE_SELLER_TAX_ID", "91110105MA01C9GR8W")

# --- i18n and time -----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "agora" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- static files (served locally, never from a CDN) -------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "agora" / "static"]
WHITENOISE_USE_FINDERS = True

# --- security ----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- logging: one JSON object per line -----------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "agora.core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "python-alipay-sdk": {"level": "WARNING"},
    },
}
