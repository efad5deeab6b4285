"""Settings for Erhuo, read from the environment (12-factor).

With no environment set, the embedded defaults apply: SQLite in WAL mode,
an in-memory channel layer, huey on SQLite and local media files. Production
configuration only sets variables; see docs/deployment.md.
"""

import contextlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ERHUO_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)
# pytest (8.2+) sets PYTEST_VERSION for the whole run.
TESTING = env_bool("ERHUO_TESTING", "PYTEST_VERSION" in os.environ)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. In production (DEBUG=0) set SECRET_KEY to a long random "
            'string, e.g. python -c "import secrets; print(secrets.token_urlsafe(50))".'
        )
    SECRET_KEY = "django-insecure-erhuo-development-only-never-use-in-production-0123456789"

# Personal data key(s): comma-separated Fernet keys, the first one encrypts,
# all of them decrypt (so keys can be rotated). See erhuo/core/pii.py.
ERHUO_PII_KEY = os.environ.get("ERHUO_PII_KEY", "")
if not ERHUO_PII_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "ERHUO_PII_KEY is not set. Personal data (phone numbers, addresses, ID numbers) "
        "is encrypted with it. Generate one with "
        '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"` '
        "and keep it safe: data encrypted with a lost key cannot be read."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "channels",
    "huey.contrib.djhuey",
    "erhuo.core",
    "erhuo.accounts",
    "erhuo.ledger",
    "erhuo.notifications",
    "erhuo.payments",
    "erhuo.catalog",
    "erhuo.trust",
    "erhuo.community",
    "erhuo.pricing",
    "erhuo.consignment",
    "erhuo.experts",
    "erhuo.market",
    "erhuo.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "erhuo.core.middleware.RequestTooLargeMiddleware",
    "erhuo.core.middleware.NulCharacterMiddleware",
    # Axes goes last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "erhuo.urls"
ASGI_APPLICATION = "erhuo.asgi.application"
WSGI_APPLICATION = "erhuo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "erhuo.web.context_processors.navigation",
                "erhuo.notifications.context_processors.notices",
            ],
            "builtins": ["erhuo.core.templatetags.erhuo"],
        },
    },
]

# --- serving --------------------------------------------------------------

# HTTP requests run through Django's WSGI handler on this many long-lived threads
# per ASGI process (erhuo/core/http_pool.py, ADR 11); 0 = Django's ASGI handler,
# which starts a thread, and opens a database connection, for every request.
ERHUO_HTTP_THREADS = int(os.environ.get("ERHUO_HTTP_THREADS", "2"))

# --- database -------------------------------------------------------------

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # psycopg 3's pool; Django requires CONN_MAX_AGE = 0 with it.
        DATABASES["default"].setdefault("OPTIONS", {})
        if env_bool("ERHUO_DB_POOL", True):
            DATABASES["default"]["OPTIONS"]["pool"] = {
                "min_size": int(os.environ.get("ERHUO_DB_POOL_MIN", "1")),
                "max_size": int(os.environ.get("ERHUO_DB_POOL_MAX", "10")),
                "timeout": 10,
            }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "erhuo.sqlite3",
            # The HTTP threads keep their connection: a new one parses the schema again (a millisecond).
            "CONN_MAX_AGE": 600 if ERHUO_HTTP_THREADS else 0,
            "OPTIONS": {
                # Writers take the lock at BEGIN, so two writers never deadlock
                # on a lock upgrade; they queue for up to `timeout` seconds.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, channels, huey: Redis when REDIS_URL is set ------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and TESTING and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    # Parallel test workers each get their own Redis database: clearing the cache or
    # counting rate limits in one worker must not touch another's.
    from urllib.parse import urlsplit, urlunsplit

    _worker = int(os.environ["PYTEST_XDIST_WORKER"][2:])
    REDIS_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{1 + _worker % 15}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("ERHUO_CACHE_PREFIX", "erhuo"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "erhuo:asgi"},
        }
    }
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("ERHUO_HUEY_NAME", "erhuo"),
        "url": REDIS_URL,
        "immediate": TESTING,
        "consumer": {"workers": int(os.environ.get("ERHUO_HUEY_WORKERS", "2")), "worker_type": "thread"},
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "erhuo",
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "erhuo",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": TESTING,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# --- auth -----------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username/IP before any password check.
    "axes.backends.AxesStandaloneBackend",
    "erhuo.accounts.backends.PhoneOrUsernameBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "web:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lockout (django-axes): five wrong passwords for one account from one
# address lock that pair out for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("ERHUO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ERHUO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "erhuo.accounts.views.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
# Login attempts per client address per minute, successful or not.
ERHUO_LOGIN_RATE_PER_MINUTE = int(os.environ.get("ERHUO_LOGIN_RATE_PER_MINUTE", "20"))

ERHUO_API_TOKEN_DAYS = int(os.environ.get("ERHUO_API_TOKEN_DAYS", "30"))

# --- i18n -----------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "erhuo" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# WhiteNoise warns at start-up when the folder is missing (before the first collectstatic).
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
ERHUO_SERVE_MEDIA = env_bool("ERHUO_SERVE_MEDIA", DEBUG)

AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploads: 10 MB per request body in memory, 20 MB per file (photos are
# validated again by the image helpers).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("ERHUO_MAX_BODY_BYTES", str(10 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ERHUO_MAX_UPLOAD_BYTES = int(os.environ.get("ERHUO_MAX_UPLOAD_BYTES", str(30 * 1024 * 1024)))
ERHUO_AVATAR_MAX_BYTES = 5 * 1024 * 1024
ERHUO_IMAGE_MAX_PIXELS = 40_000_000
# Files no URL serves (transfer screenshots, deduction evidence): read through permission-checked views only.
ERHUO_PRIVATE_MEDIA_ROOT = Path(os.environ.get("ERHUO_PRIVATE_MEDIA_ROOT", VAR_DIR / "private-media"))

# Payments. The sandbox takes no real money, so it is on by default only in development and the demo.
ERHUO_PAYMENT_PROVIDERS = env_list("ERHUO_PAYMENT_PROVIDERS") or (
    ["manual", "sandbox"] if DEBUG or TESTING else ["manual"]
)
# Signs sandbox notifications; derived from SECRET_KEY when unset.
ERHUO_SANDBOX_PAY_SECRET = os.environ.get("ERHUO_SANDBOX_PAY_SECRET", "")
# Shown to members paying by manual transfer (the group's collection account).
ERHUO_MANUAL_PAYEE_NAME = os.environ.get("ERHUO_MANUAL_PAYEE_NAME", "二货社区 收款账户")
# Alipay and WeChat Pay (ADR 9): each is on only when listed in ERHUO_PAYMENT_PROVIDERS *and* configured.
# The public https address providers send their notifications to and return the payer to.
ERHUO_PAYMENT_BASE_URL = os.environ.get("ERHUO_PAYMENT_BASE_URL", "").rstrip("/")
# Trade numbers sent to providers are "<prefix><payment id>"; a different prefix per environment that
# shares a merchant account (staging, a reset demo) keeps their numbers apart. Letters and digits only.
ERHUO_PAYMENT_TRADE_PREFIX = os.environ.get("ERHUO_PAYMENT_TRADE_PREFIX", "EH")
# Keys: PEM text, a path to a PEM file, or the bare base64 body the provider's console shows.
ERHUO_ALIPAY_APP_ID = os.environ.get("ERHUO_ALIPAY_APP_ID", "")
ERHUO_ALIPAY_PRIVATE_KEY = os.environ.get("ERHUO_ALIPAY_PRIVATE_KEY", "")
ERHUO_ALIPAY_PUBLIC_KEY = os.environ.get("ERHUO_ALIPAY_PUBLIC_KEY", "")
ERHUO_ALIPAY_SANDBOX = env_bool("ERHUO_ALIPAY_SANDBOX", False)
ERHUO_WECHATPAY_MCHID = os.environ.get("ERHUO_WECHATPAY_MCHID", "")
ERHUO_WECHATPAY_APPID = os.environ.get("ERHUO_WECHATPAY_APPID", "")
ERHUO_WECHATPAY_PRIVATE_KEY = os.environ.get("ERHUO_WECHATPAY_PRIVATE_KEY", "")
ERHUO_WECHATPAY_CERT_SERIAL_NO = os.environ.get("ERHUO_WECHATPAY_CERT_SERIAL_NO", "")
ERHUO_WECHATPAY_APIV3_KEY = os.environ.get("ERHUO_WECHATPAY_APIV3_KEY", "")
# "WeChat Pay public key" mode: notifications are verified with this key, no certificate download.
ERHUO_WECHATPAY_PUBLIC_KEY = os.environ.get("ERHUO_WECHATPAY_PUBLIC_KEY", "")
ERHUO_WECHATPAY_PUBLIC_KEY_ID = os.environ.get("ERHUO_WECHATPAY_PUBLIC_KEY_ID", "")
# A WeChat notification signed longer ago than this (seconds) is refused.
ERHUO_WECHATPAY_NOTIFY_MAX_AGE = int(os.environ.get("ERHUO_WECHATPAY_NOTIFY_MAX_AGE", "300"))

# --- security -------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
CSRF_FAILURE_VIEW = "erhuo.web.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("ERHUO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("ERHUO_SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("ERHUO_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("ERHUO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("ERHUO_HSTS_PRELOAD", True)
    # Behind nginx or another proxy that terminates TLS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]

# --- API ------------------------------------------------------------------

NINJA_PAGINATION_PER_PAGE = 20
NINJA_PAGINATION_MAX_LIMIT = 100

# --- logging --------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # run_huey adds its own handler; do not print each line twice.
        "huey": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}

ADMINS = [("Erhuo", email) for email in env_list("ERHUO_ADMIN_EMAILS")]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "erhuo@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- market (claims, orders) ------------------------------------------------

# How long the first claimer (and each next in line) has to pay.
ERHUO_CLAIM_PAYMENT_MINUTES = int(os.environ.get("ERHUO_CLAIM_PAYMENT_MINUTES", "30"))
# One shipping fee per order; free from this order value on (0: never free).
ERHUO_SHIPPING_FEE_FEN = int(os.environ.get("ERHUO_SHIPPING_FEE_FEN", "1000"))
ERHUO_FREE_SHIPPING_FROM_FEN = int(os.environ.get("ERHUO_FREE_SHIPPING_FROM_FEN", "29900"))
# A self-ship seller ships within this many hours of payment, or the order is cancelled and refunded.
ERHUO_SELF_SHIP_HOURS = int(os.environ.get("ERHUO_SELF_SHIP_HOURS", "48"))
# A shipped order nobody marked delivered (warehouse, self-ship seller, buyer) is taken as delivered after these days.
ERHUO_ASSUME_DELIVERED_DAYS = int(os.environ.get("ERHUO_ASSUME_DELIVERED_DAYS", "10"))
# Delivered orders complete by themselves after this many days (or the category's return window, if longer).
ERHUO_AUTO_CONFIRM_DAYS = int(os.environ.get("ERHUO_AUTO_CONFIRM_DAYS", "7"))

# --- notifications ------------------------------------------------------------

# How a notice reaches its person, after the row is stored (erhuo/notifications/channels.py).
ERHUO_NOTICE_CHANNELS = env_list("ERHUO_NOTICE_CHANNELS") or [
    "erhuo.notifications.channels.InAppChannel",
    "erhuo.notifications.channels.RealtimeChannel",
]
# Members signed up for a micro-class are reminded this many minutes before it starts.
ERHUO_CLASS_REMINDER_MINUTES = int(os.environ.get("ERHUO_CLASS_REMINDER_MINUTES", "60"))
