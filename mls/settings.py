"""MLS settings: one file, every knob read from the environment.

Zero-config default (nothing set): SQLite file, Celery eager, console email, DEBUG on.
Production: set DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL; the hardening
below switches on by itself and `manage.py check --deploy` is clean.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 - refused below unless DEBUG
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://localhost:8000")
# How long a post-session survey link works after it is sent (surveys.services.survey_url), in days.
SURVEY_LINK_MAX_AGE_DAYS = env_int("SURVEY_LINK_MAX_AGE_DAYS", 14)

INSTALLED_APPS = [
    "mls.apps.MLSAdminConfig",
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
    "django_celery_beat",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "mls",
    "vendors",
    "engagements",
    "scheduling",
    "slas",
    "reporting",
    "certificates",
    "portal",
    "communications",
    "surveys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mls.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mls.middleware.RefuseNulQueryMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mls.middleware.SessionLifetimeMiddleware",
    "mls.middleware.MemberLanguageMiddleware",
    "mls.middleware.NoStoreForCredentialsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mls.middleware.OrganizationScopeMiddleware",
    "mls.middleware.ApiScopeMiddleware",
    "mls.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "mls.urls"
WSGI_APPLICATION = "mls.wsgi.application"

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
                "mls.context_processors.navigation",
                "mls.context_processors.background_work",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Redis down is degraded service, not an outage: the cache then answers from each process's memory (logged;
    # see mls/cache.py), with short socket timeouts so a Redis that hangs cannot hold a request.
    CACHES = {
        "default": {
            "BACKEND": "mls.cache.RedisWithLocalFallback",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in PostgreSQL (Django's default, stated here because it matters): Redis down never signs anyone out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker the only sensible mode is eager; with Redis it is opt-in (unit tests).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
# An acks_late task whose worker died unacknowledged goes back to the queue after this many seconds. It must be
# longer than the longest task; the fault-tolerance test shortens it to see a killed worker's task come back.
# Short socket timeouts and one quick publish retry: with the broker down an enqueue fails within about a second
# (logged; the sweeper picks the waiting row up later) instead of holding the request for ~19 s.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Synced into django-celery-beat's tables by the scheduler; times are UTC (CELERY_TIMEZONE).
CELERY_BEAT_SCHEDULE = {
    "contract-reminders": {
        "task": "engagements.tasks.dispatch_contract_reminders",
        "schedule": crontab(hour=6, minute=0),
    },
    "recertification-reminders": {
        "task": "scheduling.tasks.dispatch_recertification_reminders",
        "schedule": crontab(hour=6, minute=15),
    },
    "sla-recompute": {
        "task": "slas.tasks.dispatch_sla_recompute",
        "schedule": crontab(minute=5),
    },
    "idempotency-keys-purge": {
        "task": "mls.tasks.dispatch_idempotency_purge",
        "schedule": crontab(hour=3, minute=0),
    },
    "sla-finalization": {
        "task": "slas.tasks.dispatch_sla_finalization",
        "schedule": crontab(hour=1, minute=30),
    },
    # Exports, imports, QBR renders and invitation emails whose message was lost or whose worker died (mls.work),
    # and webhook deliveries whose retry is due or whose first message was lost (mls.webhooks.sweep_due_deliveries).
    "waiting-work-sweep": {
        "task": "mls.tasks.dispatch_waiting_work_sweep",
        "schedule": crontab(),
    },
    # Learner reminders come due by the hour (each offset's window is a day wide, so an hourly run never misses one).
    "learner-reminders": {
        "task": "communications.tasks.dispatch_learner_reminders",
        "schedule": crontab(minute=20),
    },
    # Learner emails whose message was lost or whose worker died (mls.work), as the sweep above does for the rest.
    "learner-message-sweep": {
        "task": "communications.tasks.dispatch_learner_message_sweep",
        "schedule": crontab(),
    },
    # Post-session surveys of delivered sessions whose learners were not invited yet (a lost message).
    "survey-invitations": {
        "task": "surveys.tasks.dispatch_survey_invitations",
        "schedule": crontab(hour=7, minute=0),
    },
    # After finalization: a quarter's QBR is generated once its last month is final (grace days vary).
    "qbr-generation": {
        "task": "reporting.tasks.dispatch_qbr_generation",
        "schedule": crontab(hour=2, minute=30),
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth --------------------------------------------------------------------------------------
AUTH_USER_MODEL = "mls.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_SIGNUP_FORM_CLASS = "mls.forms.SignupForm"
# Confirming the address in the browser that signed up signs the new owner in (allauth checks it is that session).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_ADAPTER = "mls.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "MLS"

# --- Email -------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "MLS <noreply@mls.localhost>")

# --- I18N / time -------------------------------------------------------------------------------
# Members choose their language (the switcher sets the cookie LocaleMiddleware reads); learners have one of their
# own (Learner.language) that their emails, portal and certificates are rendered in. LANGUAGE_CODE is the default.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en-gb")
LANGUAGES = [("en-gb", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["mls.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- API ---------------------------------------------------------------------------------------
# Throttling is per token (or per member for the web app's session calls); 429 carries Retry-After.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "6000/hour")
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mls.api_auth.TokenAuthentication",
        "mls.api_auth.OrganizationSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["mls.api_auth.CallerPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["mls.api_auth.CallerThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["mls.api_parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "mls.api.exception_handler",
}
# Outbound webhooks may target loopback/private addresses only in development (a receiver on your machine);
# in production that would let a tenant probe the internal network (SSRF).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "MLS API",
    "DESCRIPTION": (
        "The integrator API of MLS. Authenticate with `Authorization: Token mls_...` (owners create tokens under "
        "Settings → API tokens). Lists are cursor-paginated (`next`/`previous` links, `?page_size=` up to 1,000) "
        "and filter by `?engagement=`, `?status=`, date ranges and `?updated_since=`. Importable resources upsert "
        "by `external_id` on POST and take up to 1,000 items at `POST .../bulk/`, all or nothing. Errors: 400 "
        "`{field: [messages]}`, 401, 403 (a read token writing), 404 (missing, or another organization's), 409, "
        "429 (with Retry-After)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SideEnum": "engagements.enums.Side",
        "EngagementStatusEnum": "engagements.enums.EngagementStatus",
        # Two choice sets of fields named `language`: a course's or session's delivery language, a learner's own.
        "DeliveryLanguageEnum": "scheduling.enums.DeliveryLanguage",
        "LanguageEnum": "mls.enums.Language",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mls.api.add_error_responses",
        "mls.idempotency.document_header",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- ASVS 5.0 L2 hardening ----------------------------------------------------------------
# Content-Security-Policy (django-csp): scripts, styles, fonts and images from this server only; its
# script tags carry the request's nonce ({{ request.csp_nonce }}); no inline handlers, plugins, <base> or framing.
# The API docs widen it for their own views only (mls/api_urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # allauth shows the TOTP QR code as a data: URI
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Browser features no page of MLS uses, refused for every response (mls.middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# A signed-in session ends after this many seconds without a request, and this many after its sign-in whatever
# happens (mls.middleware.SessionLifetimeMiddleware); the cookie does not outlive the absolute lifetime either.
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
SESSION_ABSOLUTE_LIFETIME = env_int("SESSION_ABSOLUTE_LIFETIME", 12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
# Behind reverse proxies: how many of them append to X-Forwarded-For, so allauth's rate limits key on the client's
# address rather than the proxy's (0: the header is ignored, REMOTE_ADDR is the client).
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every step at INFO (even its own stylesheets, at import); its warnings still show.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
}
