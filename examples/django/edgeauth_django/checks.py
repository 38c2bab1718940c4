"""``manage.py check`` (and runserver, migrate) report a broken EDGEAUTH setting before a request does."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from . import conf
from .signature import InvalidSecret, load_secrets

SYMMETRIC = {"HS256", "HS384", "HS512"}


@checks.register(checks.Tags.security)
def check_settings(app_configs=None, **kwargs):
    errors = []

    def err(n, msg, hint=None):
        errors.append(checks.Error(msg, hint=hint, id=f"edgeauth_django.E{n:03d}"))

    issuer = conf.get("ISSUER")
    if not issuer:
        err(1, 'EDGEAUTH["ISSUER"] is not set.',
            "Set it to edgeauth's EDGEAUTH_TOKEN_ISSUER, or its EDGEAUTH_PUBLIC_URL when that is unset.")
    explicit = getattr(settings, "EDGEAUTH", None) or {}
    for name in ("ISSUER", "JWKS_URL"):
        value = explicit.get(name)  # a derived JWKS_URL is wrong only when ISSUER is
        if value and urlsplit(value).scheme not in ("https", "http"):
            err(2, f'EDGEAUTH["{name}"] is not an http(s) URL.')
    algs = conf.get("ALGORITHMS")
    if not algs or isinstance(algs, str) or set(algs) & SYMMETRIC:
        err(3, 'EDGEAUTH["ALGORITHMS"] must be a list of asymmetric algorithms, such as ["ES256"].')
    secret = conf.get("WEBHOOK_SECRET")
    if secret is None:
        errors.append(checks.Warning(
            'EDGEAUTH["WEBHOOK_SECRET"] is not set: edgeauth_django.views.webhook refuses every request.',
            hint="Set it to edgeauth's EDGEAUTH_USERHOOK_SECRET (whsec_...).", id="edgeauth_django.W001"))
    else:
        try:
            load_secrets(secret)
        except InvalidSecret as e:
            err(4, f'EDGEAUTH["WEBHOOK_SECRET"] is unusable: {e}.')
    for name in conf.DOTTED:
        path = conf.get(name)
        if path and not callable(path):
            try:
                import_string(path)
            except ImportError as e:
                err(5, f'EDGEAUTH["{name}"] = {path!r} cannot be imported: {e}')
    return errors
