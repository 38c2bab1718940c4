"""The demo's EDGEAUTH["DENY"] hook: refuse sign-ups from the domains in DEMO_DENY_DOMAINS."""

import os


def deny(event):
    domains = {d.strip().lower() for d in os.environ.get("DEMO_DENY_DOMAINS", "").split(",") if d.strip()}
    email = (event.get("data") or {}).get("email") or ""
    domain = email.rpartition("@")[2].lower()
    if email and domain in domains:
        return f"Sign-ups from {domain} are not allowed."
    return None
