"""Standard Webhooks signatures (https://www.standardwebhooks.com/, "Signature scheme").

edgeauth signs each user webhook with HMAC-SHA256 over ``"<webhook-id>.<webhook-timestamp>.<body>"``
under a ``whsec_<base64>`` secret and sends ``webhook-signature: v1,<base64>`` (one value per
secret, separated by a space, while a secret is rotated). :func:`verify` is the one check every
receiver needs; it depends on nothing but the standard library, so it can be copied into any
Python receiver as it is.
"""

import base64
import binascii
import hashlib
import hmac
import re
import time

__all__ = ["InvalidSignature", "InvalidSecret", "TOLERANCE_SECONDS", "load_secrets", "sign", "verify"]

#: How far ``webhook-timestamp`` may be from this clock: the reference libraries' window.
TOLERANCE_SECONDS = 5 * 60

#: HMAC-SHA256 keys below 128 bits are guessable offline from one captured request.
MIN_SECRET_BYTES = 16

_PREFIX = "whsec_"
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
# Signatures are "version,base64" items separated by one space; a WSGI server that merges a
# header sent on several lines joins them with a comma. Neither character occurs in Base64.
_SEPARATORS = re.compile(r"[ ,]+")


class InvalidSignature(Exception):
    """The request is not authentic: missing headers, a stale timestamp, or no matching signature.

    The message says which, never a secret or a signature.
    """


class InvalidSecret(ValueError):
    """The secret setting is unusable. The message names the secret's position, never its value."""


def load_secrets(value):
    """Decode a setting of one or more ``whsec_<base64>`` secrets into HMAC keys.

    ``value`` is a string of space-separated secrets (the form of ``EDGEAUTH_USERHOOK_SECRET``)
    or a list of them; several are accepted so a secret can be rotated without failed deliveries.
    """
    items = value.split() if isinstance(value, str) else list(value or [])
    if not items:
        raise InvalidSecret("no secret set")
    keys = []
    for i, secret in enumerate(items, 1):
        where = f"secret {i} of {len(items)}"
        if not isinstance(secret, str) or not secret.startswith(_PREFIX):
            raise InvalidSecret(f"{where} does not start with {_PREFIX!r}")
        try:
            key = base64.b64decode(secret[len(_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSecret(f"{where} is not standard Base64 after {_PREFIX!r}") from None
        if len(key) < MIN_SECRET_BYTES:
            raise InvalidSecret(f"{where} decodes to {len(key)} bytes, want at least {MIN_SECRET_BYTES}")
        keys.append(key)
    return keys


def _mac(key, msg_id, timestamp, body):
    signed = msg_id + b"." + str(timestamp).encode("ascii") + b"." + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret, msg_id, timestamp, body):
    """Return the ``webhook-signature`` value for ``body``: one ``v1,<base64>`` per secret.

    Receivers do not need it; tests and tools that send events do.
    """
    keys = load_secrets(secret)
    if isinstance(msg_id, str):
        msg_id = msg_id.encode("utf-8")
    return " ".join("v1," + base64.b64encode(_mac(k, msg_id, int(timestamp), body)).decode("ascii") for k in keys)


def _header_bytes(value):
    # WSGI hands header values over as Latin-1 decoded strings (PEP 3333): encoding back gives
    # the bytes that were sent, which is what the sender signed.
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def verify(secret, headers, body, *, tolerance=TOLERANCE_SECONDS, now=None):
    """Check that ``body`` was signed by the holder of ``secret``; raise :class:`InvalidSignature` if not.

    ``secret`` is a setting for :func:`load_secrets` (it raises :class:`InvalidSecret` first,
    whatever the request, so a bad setting is never mistaken for a forged request).
    ``headers`` is any mapping whose ``get`` finds ``webhook-id``, ``webhook-timestamp`` and
    ``webhook-signature`` (Django's ``request.headers`` is case-insensitive). ``body`` is the raw
    request body, byte for byte, never a re-encoding of its JSON. The timestamp must be within
    ``tolerance`` seconds of ``now`` (default: this clock), which bounds replays; one ``v1``
    signature must match one of the secrets; comparisons are constant-time.
    """
    keys = load_secrets(secret)
    msg_id = headers.get("webhook-id") or ""
    timestamp = headers.get("webhook-timestamp") or ""
    signatures = headers.get("webhook-signature") or ""
    missing = [name for name, v in (("webhook-id", msg_id), ("webhook-timestamp", timestamp),
                                    ("webhook-signature", signatures)) if not v]
    if missing:
        raise InvalidSignature("missing " + ", ".join(missing))
    if not _TIMESTAMP.fullmatch(timestamp):
        raise InvalidSignature("webhook-timestamp is not Unix seconds")
    ts = int(timestamp)
    now = int(time.time()) if now is None else int(now)
    if ts < now - tolerance:
        raise InvalidSignature(f"webhook-timestamp is {now - ts}s old, tolerance {tolerance}s")
    if ts > now + tolerance:
        raise InvalidSignature(f"webhook-timestamp is {ts - now}s in the future, tolerance {tolerance}s")
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError("body must be the raw request bytes")

    expected = [_mac(k, _header_bytes(msg_id), ts, bytes(body)) for k in keys]
    items = [item for item in _SEPARATORS.split(signatures.strip()) if item]
    checked = 0
    # Each "v1" item is followed by its signature; other versions (v1a: asymmetric) and stray
    # items are passed over, and a signature can never read as "v1" (it is not valid Base64).
    for version, value in zip(items, items[1:]):
        if version != "v1":
            continue
        try:
            got = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        checked += 1
        if any(hmac.compare_digest(got, want) for want in expected):
            return
    raise InvalidSignature(f"no matching signature ({checked} v1 signature(s) checked against {len(keys)} secret(s))")
