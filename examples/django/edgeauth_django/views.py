"""edgeauth's user webhook, answered from Django's user model.

edgeauth POSTs a signed event (Standard Webhooks) at each login (``user.login``), native-app
token conversion (``user.convert``) and refresh (``user.refresh``). This view verifies the
signature, finds the user by (provider, subject) through :class:`EdgeauthIdentity` — creating
user and identity on a first login — and answers ``200 {"user_id": <pk>, "claims": {...}}``, or
``403 {"message": ...}`` to refuse: an inactive user, a refresh for a user that is gone, or
whatever ``EDGEAUTH["DENY"]`` says. edgeauth retries a lost answer with the same
``webhook-id``; a retry finds its earlier answer in :class:`WebhookDelivery` and gets the same
user, never a second one.
"""

import hashlib
import json
import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import conf
from .models import EdgeauthIdentity, WebhookDelivery
from .signature import InvalidSecret, InvalidSignature, verify

__all__ = ["webhook", "Denied"]

log = logging.getLogger(__name__)

EVENT_TYPES = {"user.login", "user.refresh", "user.convert"}
MAX_BODY_BYTES = 1 << 20


class Denied(Exception):
    """Raise from a DENY, CREATE_USER or CLAIMS hook to refuse the login with this message."""


@csrf_exempt  # authenticated by its signature, not by a browser session
@require_POST
def webhook(request):
    """The view for ``EDGEAUTH_USERHOOK_URL``: ``path("edgeauth/webhook", views.webhook)``."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        return JsonResponse({"error": "body too large"}, status=413)
    secret = conf.get("WEBHOOK_SECRET")
    try:
        verify(secret, request.headers, request.body, tolerance=conf.get("WEBHOOK_TOLERANCE_SECONDS"))
    except InvalidSecret as e:
        # 500: edgeauth retries it, and an operator sees it; the message never holds the secret.
        log.error('EDGEAUTH["WEBHOOK_SECRET"] is unusable: %s', e)
        return JsonResponse({"error": "webhook not configured"}, status=500)
    except InvalidSignature as e:
        log.warning("edgeauth webhook refused: %s", e)
        return JsonResponse({"error": "invalid signature"}, status=401)

    try:
        event = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "body is not JSON"}, status=400)
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict) or event.get("type") not in EVENT_TYPES:
        return JsonResponse({"error": "not an edgeauth user event"}, status=400)
    provider, subject = data.get("provider"), data.get("subject")
    if not isinstance(provider, str) or not provider or not isinstance(subject, str) or not subject:
        return JsonResponse({"error": "event without provider and subject"}, status=400)

    webhook_id = request.headers["webhook-id"]
    if len(webhook_id) > 255:
        return JsonResponse({"error": "webhook-id too long"}, status=400)
    try:
        user = _decide(webhook_id, event, provider, subject)
        claims = _claims(user, event)
    except Denied as e:
        log.info("edgeauth %s denied for %s: %s", event["type"], _pseudonym(provider, subject), e)
        return JsonResponse({"message": str(e)}, status=403)
    answer = {"user_id": str(user.pk)}
    if claims:
        answer["claims"] = claims
    return JsonResponse(answer)


def _pseudonym(provider, subject):
    # Logs name an identity without the provider's subject, which may be personal data.
    return provider + "|" + hashlib.sha256(subject.encode()).hexdigest()[:12]


def _decide(webhook_id, event, provider, subject):
    """The user this event logs in, or Denied."""
    deny = conf.hook("DENY")
    if deny is not None:
        message = deny(event)
        if message:
            raise Denied(message)

    done = WebhookDelivery.objects.select_related("user").filter(webhook_id=webhook_id).first()
    if done is not None:
        user = done.user  # a retry of an answered delivery: the same user
    else:
        user = _user_for(event, provider, subject)
    if not getattr(user, "is_active", True):
        raise Denied("This account is disabled.")
    if done is None:
        _record(webhook_id, event["type"], user)
    return user


def _user_for(event, provider, subject):
    """Look up the user of (provider, subject); on a login or convert, create it."""
    now = timezone.now()
    identity = EdgeauthIdentity.objects.select_related("user").filter(provider=provider, subject=subject).first()
    if identity is None:
        if event["type"] == "user.refresh":
            # The user was deleted since the login: end the session.
            raise Denied("This account no longer exists.")
        try:
            with transaction.atomic():
                user = _create_user(event)
                identity = EdgeauthIdentity.objects.create(user=user, provider=provider, subject=subject, last_login=now)
            return user
        except IntegrityError:
            # A concurrent delivery (edgeauth's retry of a slow answer) created the identity
            # first; the atomic block rolled back our user. Use theirs.
            identity = EdgeauthIdentity.objects.select_related("user").filter(provider=provider, subject=subject).first()
            if identity is None:
                raise
    EdgeauthIdentity.objects.filter(pk=identity.pk).update(last_login=now)
    return identity.user


def _create_user(event):
    create = conf.hook("CREATE_USER")
    if create is not None:
        return create(event)
    data = event["data"]
    User = get_user_model()
    email = data.get("email") if data.get("email_verified") and isinstance(data.get("email"), str) else ""
    username_field = User.USERNAME_FIELD
    # The verified email as the username when it is free; otherwise a name made of the
    # identity. An existing user with that email is not taken over: linking accounts by
    # email is a decision for CREATE_USER, made with the provider's guarantees in mind.
    username = email
    if not username or User._default_manager.filter(**{username_field: username}).exists():
        digest = hashlib.sha256(f"{data['provider']}|{data['subject']}".encode()).hexdigest()[:20]
        username = f"{data['provider'][:40]}-{digest}"
    fields = {username_field: username}
    if username_field != "email" and hasattr(User, "email"):
        fields["email"] = email
    user = User(**fields)
    if hasattr(user, "set_unusable_password"):
        user.set_unusable_password()  # edgeauth is the way in, not a Django password
    user.save()
    return user


def _record(webhook_id, event_type, user):
    # A concurrent delivery with this id may have recorded it first: both answers name the
    # same user, so either record will do.
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(webhook_id=webhook_id, event_type=event_type, user=user)
    except IntegrityError:
        pass
    cutoff = timezone.now() - timedelta(seconds=conf.get("DELIVERY_RETENTION_SECONDS"))
    WebhookDelivery.objects.filter(created__lt=cutoff).delete()


def _claims(user, event):
    claims = conf.hook("CLAIMS")
    if claims is None:
        return {}
    return claims(user, event) or {}
