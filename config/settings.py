"""Mamori settings. Every value comes from the environment through the typed readers in config.env.

Development (``DJANGO_DEBUG=true``, what ``make run`` and ``make test`` set) creates its own secrets
under ``var/``. Production (DEBUG off) refuses to start without a secret key, allowed hosts,
encryption keys and a blind-index key: see docs/deploy.md.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.dev_secrets import development_secrets
from config.env import env_bool, env_choice, env_int, env_list, env_str
from consent.receipts.keys import SigningKeyError, development_signing_keys, parse_signing_keys
from phr.tlog.keys import LogKeyError, development_log_signing_keys, parse_log_signing_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MAMORI_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

AUTH_USER_MODEL = "phr.User"

DEBUG = env_bool("DJANGO_DEBUG", False)

if DEBUG:
    _dev = development_secrets(VAR_DIR / "dev-secrets.json")
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", _dev["secret_key"])
    MAMORI_ENCRYPTION_KEYS = env_str("MAMORI_ENCRYPTION_KEYS", _dev["encryption_keys"])
    MAMORI_BLIND_INDEX_KEY = env_str("MAMORI_BLIND_INDEX_KEY", _dev["blind_index_key"])
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
else:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
    MAMORI_ENCRYPTION_KEYS = env_str("MAMORI_ENCRYPTION_KEYS")
    MAMORI_BLIND_INDEX_KEY = env_str("MAMORI_BLIND_INDEX_KEY")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production (DJANGO_DEBUG off).")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long.")

# Consent receipts are signed with Ed25519: "kid:base64url-seed,..."; the first key signs, the others stay
# published so older receipts remain verifiable (consent/receipts/keys.py).
if DEBUG:
    MAMORI_RECEIPT_SIGNING_KEYS = env_str(
        "MAMORI_RECEIPT_SIGNING_KEYS", development_signing_keys(VAR_DIR / "dev-receipt-keys.json")
    )
else:
    MAMORI_RECEIPT_SIGNING_KEYS = env_str("MAMORI_RECEIPT_SIGNING_KEYS")
try:
    parse_signing_keys(MAMORI_RECEIPT_SIGNING_KEYS)
except SigningKeyError as _error:
    raise ImproperlyConfigured(f"MAMORI_RECEIPT_SIGNING_KEYS: {_error}") from None

# Checkpoints of the tamper-evident logs (ledger, access, audit) are signed notes, Ed25519:
# "kid:base64url-seed,..."; the first key signs, the others stay published (phr/tlog/keys.py).
if DEBUG:
    MAMORI_LOG_SIGNING_KEYS = env_str(
        "MAMORI_LOG_SIGNING_KEYS", development_log_signing_keys(VAR_DIR / "dev-log-keys.json")
    )
else:
    MAMORI_LOG_SIGNING_KEYS = env_str("MAMORI_LOG_SIGNING_KEYS")
try:
    parse_log_signing_keys(MAMORI_LOG_SIGNING_KEYS)
except LogKeyError as _error:
    raise ImproperlyConfigured(f"MAMORI_LOG_SIGNING_KEYS: {_error}") from None
# A log's origin (the first line of its checkpoints, and its key name) is this prefix + the log's name.
MAMORI_LOG_ORIGIN_PREFIX = env_str("MAMORI_LOG_ORIGIN_PREFIX", "mamori.localhost/logs/")
# Every signed checkpoint is also written here, outside the database: <dir>/<log>/<size> (verify_log reads it).
MAMORI_LOG_CHECKPOINT_DIR = Path(env_str("MAMORI_LOG_CHECKPOINT_DIR", str(VAR_DIR / "checkpoints")))
# An entry queued longer than this many seconds means the integrator has stalled (/readyz, staff home).
MAMORI_LOG_STALL_SECONDS = env_int("MAMORI_LOG_STALL_SECONDS", 60, minimum=5)

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
MAMORI_BASE_URL = env_str("MAMORI_BASE_URL", "http://127.0.0.1:8000")
# Proxies in front of the app that each append the address they saw to X-Forwarded-For (docs/deploy.md).
# 0: the client is the connection's own address and X-Forwarded-For is ignored; N: the N-th address from the
# right. Every per-address limit reads it: sign-in lockout (allauth) and the API's (DRF NUM_PROXIES).
MAMORI_TRUSTED_PROXY_COUNT = env_int("MAMORI_TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)
ALLAUTH_TRUSTED_PROXY_COUNT = MAMORI_TRUSTED_PROXY_COUNT
MAMORI_API_TOKEN_SECONDS = env_int("MAMORI_API_TOKEN_SECONDS", 300, minimum=30, maximum=3600)
MAMORI_API_RATE = env_str("MAMORI_API_RATE", "6000/min")
# Every server-side fetch (FHIR endpoints, the URLs they advertise, JWKS) follows phr/outbound.py: https to
# public addresses only. These origins (scheme://host:port) are allowed despite http or a private address; in
# development, only the demo hospitals' servers (phr/demo/fhir.py) are, never loopback as such.
_demo_fhir_port = env_int("MAMORI_DEMO_FHIR_PORT", 8091, minimum=1024, maximum=65000)
MAMORI_OUTBOUND_ALLOW = env_list(
    "MAMORI_OUTBOUND_ALLOW", [f"http://127.0.0.1:{_demo_fhir_port + n}" for n in range(3)] if DEBUG else []
)
for _origin in MAMORI_OUTBOUND_ALLOW:
    if not _origin.startswith(("http://", "https://")) or _origin.split("://", 1)[1].strip("/").count("/"):
        raise ImproperlyConfigured(f"MAMORI_OUTBOUND_ALLOW: {_origin!r} is not an origin like http://host:port.")
MAMORI_OUTBOUND_CONNECT_TIMEOUT = env_int("MAMORI_OUTBOUND_CONNECT_TIMEOUT", 5, minimum=1, maximum=60)
MAMORI_OUTBOUND_READ_TIMEOUT = env_int("MAMORI_OUTBOUND_READ_TIMEOUT", 30, minimum=1, maximum=600)
MAMORI_OUTBOUND_MAX_BYTES = env_int("MAMORI_OUTBOUND_MAX_BYTES", 64 * 1024 * 1024, minimum=1024)
# Seconds a worker trusts a token it verified, and the regimes and projects it loaded, before reading them
# again; a change made in the same process is seen at once (consent/api/auth.py, consent/reference.py).
MAMORI_API_AUTH_CACHE_SECONDS = env_int("MAMORI_API_AUTH_CACHE_SECONDS", 10, minimum=0, maximum=60)
MAMORI_REFERENCE_CACHE_SECONDS = env_int("MAMORI_REFERENCE_CACHE_SECONDS", 5, minimum=0, maximum=60)
# The identifier system of the national linkage id (the person's key across data holders).
MAMORI_LINKAGE_SYSTEM = env_str("MAMORI_LINKAGE_SYSTEM", "urn:mamori:linkage-id")
# Largest FHIR upload (Bundle or NDJSON) accepted, in bytes; it is streamed to var/uploads/, never held in memory.
MAMORI_UPLOAD_MAX_BYTES = env_int("MAMORI_UPLOAD_MAX_BYTES", 200 * 1024 * 1024, minimum=1024)
# Deepest JSON nesting accepted in any API body, uploaded file or line (phr/json_limits.py); recursive parsers
# and walkers stay far below the interpreter's recursion limit.
MAMORI_JSON_MAX_DEPTH = env_int("MAMORI_JSON_MAX_DEPTH", 64, minimum=8, maximum=500)
# A record with more resources than this is exported by a worker (encrypted file under var/exports/).
MAMORI_EXPORT_INLINE_MAX = env_int("MAMORI_EXPORT_INLINE_MAX", 2000, minimum=0)
# Days a background export stays downloadable before the beat task deletes it.
MAMORI_EXPORT_DAYS = env_int("MAMORI_EXPORT_DAYS", 7, minimum=1, maximum=90)

INSTALLED_APPS = [
    "phr.admin_site.MamoriAdminConfig",  # django.contrib.admin, read-only for every model (phr/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "phr",
    "consent",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.NoStoreMiddleware",
    "config.csp.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.StaffMFAMiddleware",
]

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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite under var/ is the embedded default; PostgreSQL (psycopg 3) in production and CI.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mamori.sqlite3'}")
if not DATABASE_URL.startswith(("sqlite:", "postgres:", "postgresql:")):
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgresql:// URL.")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process, the worker and beat share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A database cache is shared by every process, so rate limits and lockouts hold across workers.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "mamori_cache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"

# django-allauth: email login, mandatory verification, no account enumeration, lockout by rate limit.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_choice("ACCOUNT_EMAIL_VERIFICATION", ("mandatory", "optional"), "mandatory")
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("MAMORI_REAUTH_SECONDS", 300, minimum=30)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Mamori] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "portal.forms.SignupForm"
ACCOUNT_RATE_LIMITS = {
    # Failed sign-ins an address may make across all accounts, then those one account may take from all
    # addresses. The per-address limit stops credential stuffing without letting one address lock out the
    # other people signing in from it (an office, a carrier's NAT); see docs/deploy.md.
    "login_failed": env_str("MAMORI_LOGIN_FAILED_LIMIT", "100/15m/ip,5/15m/key"),
    # Every sign-in attempt, failed or not: allauth's 30 a minute would throttle a busy shared address.
    "login": "300/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Mamori"
# Accept the code of the adjacent 30-second window too (RFC 6238 §5.2): people type codes near the turn.
MFA_TOTP_TOLERANCE = 1
MFA_ADAPTER = "portal.mfa_adapter.MFAAdapter"
MFA_FORMS = {"add_webauthn": "portal.mfa_forms.AddWebAuthnForm"}
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG

# Sessions: an idle timeout (renewed on every request) and an absolute one (portal middleware).
SESSION_COOKIE_AGE = env_int("MAMORI_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
MAMORI_SESSION_ABSOLUTE_SECONDS = env_int("MAMORI_SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("MAMORI_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("MAMORI_HSTS_SECONDS", 31536000, minimum=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Mamori <no-reply@mamori.localhost>")

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAMORI_UPLOAD_MAX_MEMORY_BYTES", 2_621_440, minimum=1024)

REST_FRAMEWORK = {
    "NUM_PROXIES": MAMORI_TRUSTED_PROXY_COUNT,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bounded in size and nesting (consent/api/parsers.py); a view that takes a form or a file says so.
    "DEFAULT_PARSER_CLASSES": ["consent.api.parsers.BoundedJSONParser"],
}
# Swagger UI and ReDoc from the app's own static files (drf-spectacular-sidecar): the CSP allows no CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Mamori API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: a real worker in every mode. The embedded default broker is kombu's filesystem transport.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
_celery_dir = VAR_DIR / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "results", "control"):
        (_celery_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL or f"file://{(_celery_dir / 'results').as_posix()}")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = TIME_ZONE

LOG_LEVEL = env_choice("MAMORI_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logging.RedactFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (plain text, unfiltered, e.g. "Internal Server Error: <path>" in development)
        # are replaced by the redacting one, for runserver's access log (django.server) too.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "django.security.DisallowedHost": {"level": "ERROR"},
    },
}
