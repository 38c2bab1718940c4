"""Settings of the demo project: the least a project needs to use edgeauth_django.

Everything that differs between runs comes from the environment, so tests and a local
`edgeauth dev` can point it anywhere:

  EDGEAUTH_ISSUER           edgeauth's public URL (default http://localhost:8080, `edgeauth dev`)
  EDGEAUTH_USERHOOK_SECRET  the whsec_... secret edgeauth signs webhooks with
  DEMO_DATABASE             SQLite file (default db.sqlite3 beside manage.py)
  DEMO_DENY_DOMAINS         comma-separated email domains the demo's DENY hook refuses
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "edgeauth_django",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE") or BASE_DIR / "db.sqlite3",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

# --- edgeauth: the lines a project copies ---------------------------------------------------
EDGEAUTH = {
    "ISSUER": os.environ.get("EDGEAUTH_ISSUER", "http://localhost:8080"),
    # "AUDIENCE": defaults to ISSUER, as edgeauth's EDGEAUTH_TOKEN_AUDIENCE does.
    "WEBHOOK_SECRET": os.environ.get("EDGEAUTH_USERHOOK_SECRET"),
    "DENY": "demo.hooks.deny",
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["edgeauth_django.authentication.EdgeauthAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,  # no django.contrib.auth AnonymousUser needed for an API
}
# ---------------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"edgeauth_django": {"handlers": ["console"], "level": "INFO"}},
}
