#!/usr/bin/env python3
"""An edgeauth user webhook receiver, Python standard library only.

edgeauth POSTs a signed event at every login (Standard Webhooks format); this server checks
the signature and the timestamp window, finds or creates the user, and answers
200 {"user_id": ..., "claims": {...}} to let the person in or 403 {"message": ...} to refuse.

Environment:
  PORT                      port to listen on (default 8081; 0 picks a free one)
  EDGEAUTH_USERHOOK_SECRET  whsec_... secret(s), space-separated while rotating
  DENY_DOMAINS              comma-separated email domains to refuse, e.g. "example.org,spam.test"
  EVENTS_LOG                optional file; each verified event is appended as one JSON line
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 5 * 60  # replay window, as in the Standard Webhooks libraries
MAX_BODY_BYTES = 1 << 20


class VerificationError(Exception):
    pass


def load_secrets(value):
    """Decode "whsec_<base64>" secrets; errors name the position, never the secret."""
    keys = []
    for i, secret in enumerate(value.split(), 1):
        if not secret.startswith("whsec_"):
            raise ValueError(f"secret {i} does not start with whsec_")
        try:
            key = base64.b64decode(secret[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"secret {i} is not standard base64") from None
        if not key:
            raise ValueError(f"secret {i} is empty")
        keys.append(key)
    if not keys:
        raise ValueError("not set")
    return keys


def verify(keys, headers, body, now=None):
    """Raise VerificationError unless body carries a valid v1 signature under one of keys."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    # Several signatures (one per sender secret) are separated by single spaces.
    signatures = " ".join(headers.get_all("webhook-signature") or [])
    if not msg_id or not timestamp or not signatures:
        raise VerificationError("missing webhook headers")
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise VerificationError("webhook-timestamp is not Unix seconds")
    ts = int(timestamp)
    now = int(time.time()) if now is None else now
    if abs(now - ts) > TOLERANCE_SECONDS:
        raise VerificationError("webhook-timestamp outside the tolerance window")

    # Sign the raw bytes exactly as received: never a re-encoding of the parsed JSON.
    # http.server decodes header values as Latin-1; encoding back restores the sent bytes.
    signed = msg_id.encode("latin-1") + b"." + str(ts).encode() + b"." + body
    expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in keys]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version != "v1":
            continue
        try:
            got = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if any(hmac.compare_digest(got, want) for want in expected):
            return
    raise VerificationError("no matching signature")


class Users:
    """Stands in for your user table. Key users by provider + subject: the subject is
    stable per provider, an email address is not (it can change, or be reused)."""

    def __init__(self, deny_domains, events_log):
        self.deny_domains = deny_domains
        self.events_log = events_log
        self.lock = threading.Lock()
        self.by_identity = {}

    def log_event(self, event):
        if not self.events_log:
            return
        line = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        with self.lock, open(self.events_log, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def decide(self, event):
        """Return (status, answer) for a verified event."""
        data = event.get("data") or {}
        email = data.get("email") or ""
        domain = email.rpartition("@")[2].lower()
        if email and domain in self.deny_domains:
            return 403, {"message": f"Sign-ups from {domain} are not allowed."}

        # Look up or create the user. edgeauth retries with the same webhook-id when an
        # answer is lost, so this must be idempotent: a second call finds the same user.
        key = (data.get("provider", ""), data.get("subject", ""))
        with self.lock:
            user_id = self.by_identity.get(key)
            if user_id is None:
                user_id = f"user-{len(self.by_identity) + 1}"
                self.by_identity[key] = user_id
        return 200, {"user_id": user_id, "claims": {"role": "member"}}


def make_handler(keys, users):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: edgeauth reuses connections
        server_version = "edgeauth-example-python"

        def send_json(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/healthz":
                self.send_json(200, {"status": "ok"})
            else:
                self.send_json(404, {"error": "not found"})

        def do_POST(self):
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self.close_connection = True
                return self.send_json(411, {"error": "Content-Length required"})
            if int(length) > MAX_BODY_BYTES:
                self.close_connection = True
                return self.send_json(413, {"error": "body too large"})
            body = self.rfile.read(int(length))

            try:
                verify(keys, self.headers, body)
            except VerificationError as e:
                self.log_message("rejected: %s", e)
                return self.send_json(401, {"error": "invalid signature"})
            try:
                event = json.loads(body)
            except ValueError:
                return self.send_json(400, {"error": "body is not JSON"})
            if not isinstance(event, dict):
                return self.send_json(400, {"error": "body is not a JSON object"})

            users.log_event(event)
            status, answer = users.decide(event)
            self.log_message("%s %s -> %d", event.get("type"), self.headers.get("webhook-id"), status)
            self.send_json(status, answer)

    return Handler


def main():
    try:
        keys = load_secrets(os.environ.get("EDGEAUTH_USERHOOK_SECRET", ""))
    except ValueError as e:
        print(f"EDGEAUTH_USERHOOK_SECRET: {e}", file=sys.stderr)
        return 2
    deny = {d.strip().lower() for d in os.environ.get("DENY_DOMAINS", "").split(",") if d.strip()}
    users = Users(deny, os.environ.get("EVENTS_LOG") or None)
    server = ThreadingHTTPServer(("", int(os.environ.get("PORT", "8081"))), make_handler(keys, users))
    print(f"listening on :{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
