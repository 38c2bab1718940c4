"""The ``EDGEAUTH`` setting: one dict in settings.py, read with defaults, checked by ``manage.py check``."""

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULTS = {
    # The API tokens' issuer: edgeauth's EDGEAUTH_TOKEN_ISSUER, else its EDGEAUTH_PUBLIC_URL.
    "ISSUER": None,
    # The aud the tokens must carry: edgeauth's EDGEAUTH_TOKEN_AUDIENCE (default: the issuer).
    "AUDIENCE": None,
    # Where the public keys are; default <ISSUER>/.well-known/jwks.json.
    "JWKS_URL": None,
    # Signature algorithms accepted: edgeauth signs with ES256 unless told EdDSA or RS256.
    # Never a symmetric algorithm (HS256): the JWKS is public.
    "ALGORITHMS": ["ES256", "EdDSA", "RS256"],
    # Seconds of clock skew allowed on exp.
    "LEEWAY": 0,
    # How long a fetched JWKS is used before it is fetched again, and the shortest time between
    # two fetches caused by an unknown kid (a key rotation), so forged kids cannot flood edgeauth.
    "JWKS_CACHE_SECONDS": 300,
    "JWKS_MIN_REFRESH_SECONDS": 30,
    "JWKS_TIMEOUT_SECONDS": 5,
    # The whsec_... secret(s) of edgeauth's EDGEAUTH_USERHOOK_SECRET: a string, space-separated
    # while rotating, or a list.
    "WEBHOOK_SECRET": None,
    "WEBHOOK_TOLERANCE_SECONDS": 300,
    # Dotted path of a callable(event) -> str | None: a message refuses the login (403).
    "DENY": None,
    # Dotted path of a callable(event) -> user that creates the user of a new identity.
    "CREATE_USER": None,
    # Dotted path of a callable(user, event) -> dict of claims to add to the API token.
    "CLAIMS": None,
    # How long processed webhook ids are kept (edgeauth retries within seconds).
    "DELIVERY_RETENTION_SECONDS": 24 * 60 * 60,
}

DOTTED = ("DENY", "CREATE_USER", "CLAIMS")


def get(name):
    """The value of EDGEAUTH[name], its default, or the one derived from ISSUER."""
    user = getattr(settings, "EDGEAUTH", None) or {}
    value = user.get(name, DEFAULTS[name])
    if value is None and name == "AUDIENCE":
        value = get("ISSUER")
    if value is None and name == "JWKS_URL":
        issuer = get("ISSUER")
        value = issuer.rstrip("/") + "/.well-known/jwks.json" if issuer else None
    return value


def hook(name):
    """The callable a dotted-path setting names, or None."""
    path = get(name)
    if not path:
        return None
    return path if callable(path) else import_string(path)
