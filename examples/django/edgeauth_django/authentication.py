"""DRF authentication by edgeauth's API access tokens (RFC 9068 JWT access tokens).

A request with ``Authorization: Bearer <api.access>`` is authenticated as the Django user whose
primary key is the token's ``sub`` (the ``user_id`` that :func:`edgeauth_django.views.webhook`
answered at login). The token is checked the way edgeauth's own ``/oauth2/verify`` does: a
signature by a key of edgeauth's JWKS, with an allowed algorithm, ``typ: at+jwt``, ``iss``,
``aud`` and ``exp``. ``request.auth`` is the token's claims.
"""

import json
import threading
import time
import urllib.request
from urllib.error import URLError

import jwt
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import conf

__all__ = ["EdgeauthAuthentication", "KeysUnavailable", "verify_access_token"]

# RFC 9068 §2.1: "at+jwt"; RFC 7515 §4.1.9 lets the "application/" prefix be written out.
ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}
MAX_JWKS_BYTES = 1 << 20
MAX_TOKEN_CHARS = 8192


class KeysUnavailable(exceptions.APIException):
    """edgeauth's JWKS could not be fetched: the server's trouble, not the client's token."""

    status_code = 503
    default_detail = "The token's signing keys cannot be fetched right now."
    default_code = "keys_unavailable"


class _JWKSClient(jwt.PyJWKClient):
    """PyJWKClient with what production needs and PyJWT 2.6 lacks: a timeout and a body limit
    on the fetch, the last good key set kept when a fetch fails, and at most one fetch per
    ``min_refresh`` seconds for an unknown kid, so tokens with made-up kids cannot make every
    request fetch the JWKS."""

    def __init__(self, uri, lifespan, min_refresh, timeout):
        super().__init__(uri, cache_keys=False, cache_jwk_set=True, lifespan=lifespan)
        self.min_refresh = min_refresh
        self.timeout = timeout
        self.lock = threading.Lock()
        self.last_fetch = None
        self.last_good = None

    def fetch_data(self):
        self.last_fetch = time.monotonic()
        try:
            req = urllib.request.Request(self.uri, headers={"Accept": "application/json"})
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = json.loads(resp.read(MAX_JWKS_BYTES + 1)[:MAX_JWKS_BYTES])
            jwt.PyJWKSet.from_dict(data)  # refuse a set with no usable key before caching it
        except (URLError, OSError, ValueError, jwt.PyJWKSetError) as e:
            if self.last_good is not None:
                # Stale keys beat refusing every request; fetch again after the lifespan.
                self.jwk_set_cache.put(self.last_good)
                return self.last_good
            raise jwt.PyJWKClientError(f"fetch {self.uri}: {e}") from None
        self.last_good = data
        self.jwk_set_cache.put(data)
        return data

    def get_signing_key(self, kid):
        with self.lock:
            key = self.match_kid(self.get_signing_keys(), kid)
            recent = self.last_fetch is not None and time.monotonic() - self.last_fetch < self.min_refresh
            if key is None and not recent:
                key = self.match_kid(self.get_signing_keys(refresh=True), kid)
        if key is None:
            raise _UnknownKey()
        return key


class _UnknownKey(Exception):
    pass


_clients = {}
_clients_lock = threading.Lock()


def _client():
    params = (conf.get("JWKS_URL"), conf.get("JWKS_CACHE_SECONDS"), conf.get("JWKS_MIN_REFRESH_SECONDS"),
              conf.get("JWKS_TIMEOUT_SECONDS"))
    with _clients_lock:
        client = _clients.get(params)
        if client is None:
            client = _clients[params] = _JWKSClient(*params)
        return client


def _reset_clients(setting, **kwargs):
    if setting == "EDGEAUTH":
        with _clients_lock:
            _clients.clear()


setting_changed.connect(_reset_clients)


def verify_access_token(token):
    """Return the claims of an edgeauth API access token, or raise AuthenticationFailed.

    Usable outside DRF (a plain Django view, a Channels consumer). Raises
    :class:`KeysUnavailable` when the JWKS cannot be fetched and no keys are cached.
    """
    fail = exceptions.AuthenticationFailed
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        # Five parts would be a JWE: edgeauth's refresh token, never an access token.
        raise fail("Not a JWS compact token.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise fail("Malformed token.") from None
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
        raise fail("Not an access token (typ must be at+jwt).")
    alg = header.get("alg")
    if alg not in conf.get("ALGORITHMS"):
        raise fail("Token algorithm not allowed.")
    if "crit" in header:
        raise fail("Token has critical header parameters.")  # RFC 7515 §4.1.11: none understood here
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise fail("Token has no kid.")
    try:
        key = _client().get_signing_key(kid)
    except _UnknownKey:
        raise fail("Token signed by an unknown key.") from None
    except jwt.PyJWKClientError:
        raise KeysUnavailable() from None
    try:
        return jwt.decode(
            token,
            key.key,
            algorithms=[alg],
            audience=conf.get("AUDIENCE"),
            issuer=conf.get("ISSUER"),
            leeway=conf.get("LEEWAY"),
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise fail("Token expired.") from None
    except jwt.InvalidAudienceError:
        raise fail("Token audience mismatch.") from None
    except jwt.InvalidIssuerError:
        raise fail("Token issuer mismatch.") from None
    except jwt.PyJWTError:
        raise fail("Invalid token.") from None


class EdgeauthAuthentication(BaseAuthentication):
    """``Authorization: Bearer <edgeauth API access token>`` → the Django user named by ``sub``.

    Put ``"edgeauth_django.authentication.EdgeauthAuthentication"`` in
    ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` (or a view's
    ``authentication_classes``). Requests without a Bearer JWS are left to the next class
    (``None``); a bad token, or a sub with no active user, is a 401.
    """

    keyword = "Bearer"
    www_authenticate_realm = "api"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be: Bearer <token>.")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Malformed token.") from None
        if token.count(".") != 2:
            # Not a JWS: another scheme's opaque Bearer token (django-oauth-toolkit during a
            # migration) for the next class to judge; alone, DRF answers 401 all the same.
            return None
        claims = verify_access_token(token)
        return self.get_user(claims), claims

    def get_user(self, claims):
        """The active user whose primary key is ``sub``. Override to map ``sub`` another way."""
        User = get_user_model()
        try:
            user = User._default_manager.get(pk=claims["sub"])
        except (User.DoesNotExist, ValueError, TypeError, ValidationError):
            raise exceptions.AuthenticationFailed("No user for this token.") from None
        if not getattr(user, "is_active", True):
            raise exceptions.AuthenticationFailed("User is inactive.")
        return user

    def authenticate_header(self, request):
        # A WWW-Authenticate challenge makes DRF answer 401, not 403 (RFC 6750 §3).
        return f'{self.keyword} realm="{self.www_authenticate_realm}"'
