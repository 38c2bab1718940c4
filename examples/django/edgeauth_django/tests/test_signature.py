import base64
import unittest

from edgeauth_django.signature import InvalidSecret, InvalidSignature, load_secrets, sign, verify

# The worked example of the Standard Webhooks specification, also in edgeauth's
# userhook/verify_test.go (TestSignatureVector).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET_A = "whsec_" + base64.b64encode(b"a" * 32).decode()
SECRET_B = "whsec_" + base64.b64encode(b"b" * 32).decode()
NOW = 1_800_000_000
BODY = b'{"type":"user.login","data":{"email":"ada@example.com"}}'


def headers(secret=SECRET_A, msg_id="msg_1", ts=NOW, body=BODY, signature=None):
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature if signature is not None else sign(secret, msg_id, ts, body),
    }


class SignatureVectorTests(unittest.TestCase):
    def test_sign_matches_the_specification(self):
        self.assertEqual(sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY), VECTOR_SIG)

    def test_verify_accepts_the_specification_example(self):
        h = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": VECTOR_SIG}
        verify(VECTOR_SECRET, h, VECTOR_BODY, now=VECTOR_TS)


class VerifyTests(unittest.TestCase):
    def assertRefused(self, h, body=BODY, secret=SECRET_A, now=NOW, contains=""):
        with self.assertRaises(InvalidSignature) as cm:
            verify(secret, h, body, now=now)
        self.assertIn(contains, str(cm.exception))
        return cm.exception

    def test_accepted(self):
        cases = {
            "valid": (SECRET_A, headers()),
            "one of two receiver secrets (rotation)": (SECRET_B + " " + SECRET_A, headers()),
            "receiver secrets as a list": ([SECRET_B, SECRET_A], headers()),
            "one of two signatures (sender rotating)": (SECRET_B, headers(secret=SECRET_A + " " + SECRET_B)),
            "other versions passed over": (SECRET_A, headers(signature="v1a,AAAA " + sign(SECRET_A, "msg_1", NOW, BODY))),
            "header lines merged with a comma": (
                SECRET_A, headers(signature=sign(SECRET_B, "msg_1", NOW, BODY) + "," + sign(SECRET_A, "msg_1", NOW, BODY))),
            "at the edge of the window": (SECRET_A, headers(ts=NOW - 300)),
            "edge of the window, future": (SECRET_A, headers(ts=NOW + 300)),
        }
        for name, (secret, h) in cases.items():
            with self.subTest(name):
                verify(secret, h, BODY, now=NOW)

    def test_refused(self):
        good = headers()
        cases = {
            "tampered body": (good, BODY.replace(b"ada", b"eve"), "no matching signature"),
            "other id": ({**good, "webhook-id": "msg_2"}, BODY, "no matching signature"),
            "other timestamp": ({**good, "webhook-timestamp": str(NOW + 1)}, BODY, "no matching signature"),
            "signed with another secret": (headers(secret=SECRET_B), BODY, "no matching signature"),
            "stale": (headers(ts=NOW - 301), BODY, "old"),
            "future": (headers(ts=NOW + 301), BODY, "future"),
            "timestamp not digits": ({**good, "webhook-timestamp": "1e9"}, BODY, "Unix seconds"),
            "negative timestamp": ({**good, "webhook-timestamp": "-1"}, BODY, "Unix seconds"),
            "no id": ({k: v for k, v in good.items() if k != "webhook-id"}, BODY, "webhook-id"),
            "no signature": ({**good, "webhook-signature": ""}, BODY, "webhook-signature"),
            "no timestamp": ({k: v for k, v in good.items() if k != "webhook-timestamp"}, BODY, "webhook-timestamp"),
            "only another version": ({**good, "webhook-signature": good["webhook-signature"].replace("v1,", "v2,")}, BODY, "0 v1"),
            "signature not base64": ({**good, "webhook-signature": "v1,@@@"}, BODY, "no matching"),
            "truncated signature": ({**good, "webhook-signature": good["webhook-signature"][:-8]}, BODY, "no matching"),
            "empty v1": ({**good, "webhook-signature": "v1,"}, BODY, "no matching"),
        }
        for name, (h, body, contains) in cases.items():
            with self.subTest(name):
                e = self.assertRefused(h, body=body, contains=contains)
                self.assertNotIn(SECRET_A, str(e))

    def test_body_must_be_bytes(self):
        with self.assertRaises(TypeError):
            verify(SECRET_A, headers(), BODY.decode(), now=NOW)

    def test_latin1_header_round_trip(self):
        # WSGI gives header values as Latin-1 decoded text; a UTF-8 id sent as bytes must verify.
        msg_id = "msg_é"
        h = headers(msg_id=msg_id)
        h["webhook-id"] = msg_id.encode("utf-8").decode("latin-1")
        verify(SECRET_A, h, BODY, now=NOW)

    def test_bad_secret_is_reported_before_the_request(self):
        for name, secret in {
            "unset": None, "empty": "", "no prefix": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "not base64": "whsec_%%%%", "too short": "whsec_" + base64.b64encode(b"short").decode(),
            "second of two bad": SECRET_A + " whsec_",
        }.items():
            with self.subTest(name):
                with self.assertRaises(InvalidSecret) as cm:
                    verify(secret, {}, BODY, now=NOW)
                if secret:
                    self.assertNotIn(secret.split()[-1][6:] or "\0", str(cm.exception))

    def test_load_secrets(self):
        self.assertEqual(load_secrets(SECRET_A + "  " + SECRET_B), [b"a" * 32, b"b" * 32])
