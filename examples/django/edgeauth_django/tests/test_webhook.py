import base64
import json
import time

from django.contrib.auth import get_user_model
from django.test import TestCase, override_settings

from edgeauth_django.models import EdgeauthIdentity, WebhookDelivery
from edgeauth_django.signature import sign
from edgeauth_django.views import Denied

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
URL = "/edgeauth/webhook"


def event(type_="user.login", email="ada@example.com", subject="sub-ada", provider="dev", verified=True):
    return {"type": type_, "timestamp": "2026-01-01T00:00:00Z", "data": {
        "provider": provider, "issuer": "http://op.test", "subject": subject, "email": email,
        "email_verified": verified, "name": "Ada", "picture": "", "claims": {}, "userinfo": {}}}


def deny_example_org(e):
    return "No example.org, please." if e["data"]["email"].endswith("@example.org") else None


def role_claims(user, e):
    return {"role": "staff" if user.is_staff else "member", "username": user.get_username()}


def deny_by_raising(e):
    raise Denied("raised")


@override_settings(ROOT_URLCONF="edgeauth_django.tests.urls", EDGEAUTH={"ISSUER": "http://edgeauth.test", "WEBHOOK_SECRET": SECRET})
class WebhookTests(TestCase):
    n = 0

    def post(self, body, msg_id=None, secret=SECRET, ts=None, raw=None):
        if msg_id is None:
            WebhookTests.n += 1
            msg_id = f"msg_{WebhookTests.n}"
        data = raw if raw is not None else json.dumps(body).encode()
        ts = int(time.time()) if ts is None else ts
        return self.client.post(URL, data=data, content_type="application/json",
                                HTTP_WEBHOOK_ID=msg_id, HTTP_WEBHOOK_TIMESTAMP=str(ts),
                                HTTP_WEBHOOK_SIGNATURE=sign(secret, msg_id, ts, data))

    def test_first_login_creates_the_user(self):
        resp = self.post(event())
        self.assertEqual(resp.status_code, 200, resp.content)
        user = get_user_model().objects.get()
        self.assertEqual(resp.json(), {"user_id": str(user.pk)})
        self.assertEqual((user.username, user.email, user.has_usable_password()), ("ada@example.com", "ada@example.com", False))
        ident = EdgeauthIdentity.objects.get()
        self.assertEqual((ident.user, ident.provider, ident.subject), (user, "dev", "sub-ada"))
        self.assertIsNotNone(ident.last_login)

    def test_next_login_finds_the_same_user(self):
        first = self.post(event()).json()
        for type_ in ("user.login", "user.convert", "user.refresh"):
            with self.subTest(type_):
                self.assertEqual(self.post(event(type_)).json(), first)
        self.assertEqual(get_user_model().objects.count(), 1)

    def test_retry_with_the_same_webhook_id(self):
        first = self.post(event(), msg_id="msg_retry")
        # The same delivery again: the row edgeauth's first attempt created answers it.
        again = self.post(event(), msg_id="msg_retry")
        self.assertEqual((first.status_code, again.status_code), (200, 200))
        self.assertEqual(first.json(), again.json())
        self.assertEqual(get_user_model().objects.count(), 1)
        self.assertEqual(EdgeauthIdentity.objects.count(), 1)
        self.assertEqual(WebhookDelivery.objects.filter(webhook_id="msg_retry").count(), 1)

    def test_users_are_keyed_by_identity_not_email(self):
        a = self.post(event(subject="s1")).json()
        b = self.post(event(subject="s2")).json()  # same email, another account at the provider
        c = self.post(event(provider="google", subject="s1")).json()
        self.assertEqual(len({a["user_id"], b["user_id"], c["user_id"]}), 3)
        names = set(get_user_model().objects.values_list("username", flat=True))
        self.assertIn("ada@example.com", names)  # the first one gets the email as username

    def test_unverified_email_is_not_used(self):
        self.post(event(email="eve@example.com", verified=False))
        user = get_user_model().objects.get()
        self.assertEqual(user.email, "")
        self.assertTrue(user.username.startswith("dev-"), user.username)

    def test_refusals(self):
        self.post(event(subject="gone")).json()
        get_user_model().objects.filter(edgeauth_identities__subject="gone").delete()
        self.post(event(subject="off"))
        get_user_model().objects.filter(edgeauth_identities__subject="off").update(is_active=False)
        cases = {
            "inactive user, login": (event(subject="off"), "This account is disabled."),
            "inactive user, refresh": (event("user.refresh", subject="off"), "This account is disabled."),
            "deleted user, refresh": (event("user.refresh", subject="gone"), "This account no longer exists."),
            "unknown user, refresh": (event("user.refresh", subject="never"), "This account no longer exists."),
        }
        for name, (body, message) in cases.items():
            with self.subTest(name):
                resp = self.post(body)
                self.assertEqual(resp.status_code, 403, resp.content)
                self.assertEqual(resp.json(), {"message": message})
        self.assertFalse(EdgeauthIdentity.objects.filter(subject="never").exists())

    def test_deny_hook(self):
        with override_settings(EDGEAUTH={"WEBHOOK_SECRET": SECRET, "DENY": "edgeauth_django.tests.test_webhook.deny_example_org"}):
            resp = self.post(event(email="eve@example.org"))
            self.assertEqual((resp.status_code, resp.json()), (403, {"message": "No example.org, please."}))
            self.assertEqual(get_user_model().objects.count(), 0, "a denied sign-up created a user")
            self.assertEqual(self.post(event()).status_code, 200)
        with override_settings(EDGEAUTH={"WEBHOOK_SECRET": SECRET, "DENY": deny_by_raising}):
            self.assertEqual(self.post(event()).json(), {"message": "raised"})

    def test_claims_hook(self):
        with override_settings(EDGEAUTH={"WEBHOOK_SECRET": SECRET, "CLAIMS": "edgeauth_django.tests.test_webhook.role_claims"}):
            resp = self.post(event())
            self.assertEqual(resp.json()["claims"], {"role": "member", "username": "ada@example.com"})

    def test_not_authentic(self):
        good = json.dumps(event()).encode()
        ts = int(time.time())
        cases = {
            "another secret": dict(body=event(), secret=OTHER),
            "stale": dict(body=event(), ts=ts - 301),
            "future": dict(body=event(), ts=ts + 301),
        }
        for name, kw in cases.items():
            with self.subTest(name):
                resp = self.post(**kw)
                self.assertEqual((resp.status_code, resp.json()), (401, {"error": "invalid signature"}))
        with self.subTest("tampered body"):
            resp = self.client.post(URL, data=good.replace(b"ada", b"eve"), content_type="application/json",
                                    HTTP_WEBHOOK_ID="m", HTTP_WEBHOOK_TIMESTAMP=str(ts),
                                    HTTP_WEBHOOK_SIGNATURE=sign(SECRET, "m", ts, good))
            self.assertEqual(resp.status_code, 401)
        with self.subTest("unsigned"):
            self.assertEqual(self.client.post(URL, data=good, content_type="application/json").status_code, 401)
        self.assertEqual(get_user_model().objects.count(), 0)

    def test_rotation(self):
        with override_settings(EDGEAUTH={"WEBHOOK_SECRET": [OTHER, SECRET]}):
            self.assertEqual(self.post(event()).status_code, 200)

    def test_bad_requests(self):
        cases = {
            "not JSON": b"{",
            "not an object": b"[]",
            "unknown type": json.dumps({**event(), "type": "user.deleted"}).encode(),
            "no subject": json.dumps(event(subject="")).encode(),
            "data not an object": json.dumps({"type": "user.login", "data": "x"}).encode(),
        }
        for name, raw in cases.items():
            with self.subTest(name):
                self.assertEqual(self.post(None, raw=raw).status_code, 400)
        self.assertEqual(self.post(event(), msg_id="m" * 256).status_code, 400)
        self.assertEqual(self.client.get(URL).status_code, 405)

    def test_unusable_secret_is_a_server_error(self):
        with override_settings(EDGEAUTH={"WEBHOOK_SECRET": "not-a-whsec"}):
            with self.assertLogs("edgeauth_django.views", "ERROR") as logs:
                resp = self.post(event())
            self.assertEqual(resp.status_code, 500)
            self.assertNotIn("not-a-whsec", "\n".join(logs.output))

    def test_old_deliveries_are_pruned(self):
        self.post(event(), msg_id="old")
        WebhookDelivery.objects.filter(webhook_id="old").update(created="2000-01-01T00:00:00Z")
        self.post(event(), msg_id="new")
        self.assertEqual(list(WebhookDelivery.objects.values_list("webhook_id", flat=True)), ["new"])
