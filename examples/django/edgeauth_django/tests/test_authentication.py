import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.contrib.auth import get_user_model
from django.test import TestCase, override_settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from edgeauth_django import authentication
from edgeauth_django.authentication import EdgeauthAuthentication, verify_access_token

ISSUER = "http://edgeauth.test"


class JWKSServer:
    """edgeauth's /.well-known/jwks.json, served on a free port of 127.0.0.1; counts fetches."""

    def __init__(self):
        self.jwks = {"keys": []}
        self.fetches = 0
        self.down = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches += 1
                if outer.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Signer:
    """An edgeauth signing key: mints API access tokens the way edgeauth does."""

    def __init__(self, kid, alg="ES256"):
        self.kid, self.alg = kid, alg
        if alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            algo = jwt.algorithms.ECAlgorithm
        elif alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
            algo = jwt.algorithms.OKPAlgorithm
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            algo = jwt.algorithms.RSAAlgorithm
        self.jwk = json.loads(algo.to_jwk(self.private.public_key()))
        self.jwk.update(kid=kid, alg=alg, use="sig")

    def claims(self, **over):
        now = int(time.time())
        c = {"iss": ISSUER, "aud": ISSUER, "sub": "1", "iat": now, "exp": now + 600, "jti": "j1",
             "provider": "dev", "auth_time": now}
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def mint(self, header=None, alg=None, key=None, **claims):
        h = {"typ": "at+jwt", "kid": self.kid}
        h.update(header or {})
        h = {k: v for k, v in h.items() if v is not None}
        return jwt.encode(self.claims(**claims), key or self.private, algorithm=alg or self.alg, headers=h)


@api_view(["GET"])
@authentication_classes([EdgeauthAuthentication])
@permission_classes([IsAuthenticated])
def me(request):
    return Response({"username": request.user.get_username(), "sub": request.auth["sub"]})


class OpaqueTokens(BaseAuthentication):
    """Stands in for django-oauth-toolkit's OAuth2Authentication during a migration."""

    def authenticate(self, request):
        if request.META.get("HTTP_AUTHORIZATION") == "Bearer opaque-token":
            return get_user_model().objects.get(username="legacy"), None
        return None


@api_view(["GET"])
@authentication_classes([EdgeauthAuthentication, OpaqueTokens])
@permission_classes([IsAuthenticated])
def side_by_side(request):
    return Response({"username": request.user.get_username()})


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(secret, header, claims):
    # Made by hand: PyJWT refuses to use a PEM key as an HMAC secret, an attacker does not.
    signing_input = b64url(json.dumps({**header, "alg": "HS256"}).encode()) + "." + b64url(json.dumps(claims).encode())
    return signing_input + "." + b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


class EdgeauthAuthenticationTests(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jwks = JWKSServer()
        cls.addClassCleanup(cls.jwks.close)
        cls.es, cls.ed, cls.rs = Signer("es-1"), Signer("ed-1", "EdDSA"), Signer("rs-1", "RS256")

    def setUp(self):
        self.jwks.jwks = {"keys": [self.es.jwk, self.ed.jwk, self.rs.jwk]}
        self.jwks.down = False
        self.jwks.fetches = 0
        self.user = get_user_model().objects.create_user("ada@example.com")
        # A fresh EDGEAUTH setting empties the key cache, so each test starts without one.
        settings = override_settings(EDGEAUTH={"ISSUER": ISSUER, "JWKS_URL": self.jwks.url})
        settings.enable()
        self.addCleanup(settings.disable)

    def call(self, token=None, scheme="Bearer"):
        headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"} if token is not None else {}
        return me(APIRequestFactory().get("/api/me", **headers))

    def test_valid_tokens_name_the_user(self):
        for signer in (self.es, self.ed, self.rs):
            with self.subTest(signer.alg):
                resp = self.call(signer.mint(sub=str(self.user.pk)))
                self.assertEqual(resp.status_code, 200, resp.data)
                self.assertEqual(resp.data, {"username": "ada@example.com", "sub": str(self.user.pk)})

    def test_application_prefixed_typ(self):
        self.assertEqual(self.call(self.es.mint(header={"typ": "application/at+jwt"}, sub=str(self.user.pk))).status_code, 200)

    def test_refused_tokens(self):
        es, sub = self.es, str(self.user.pk)
        good = es.mint(sub=sub)
        head, payload, sig = good.split(".")
        flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
        public_pem = es.private.public_key().public_bytes(
            encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo)
        unsigned = b64url(json.dumps({"alg": "none", "typ": "at+jwt", "kid": "es-1"}).encode()) + "." + payload + "."
        other = Signer("es-1")  # same kid, another key: a forger's
        cases = {
            "tampered signature": head + "." + payload + "." + flipped,
            "tampered payload": head + "." + b64url(json.dumps(es.claims(sub="2")).encode()) + "." + sig,
            "typ JWT (an ID token)": es.mint(header={"typ": "JWT"}, sub=sub),
            "no typ": es.mint(header={"typ": None}, sub=sub),
            "wrong issuer": es.mint(iss="http://other.test", sub=sub),
            "issuer with a trailing slash": es.mint(iss=ISSUER + "/", sub=sub),
            "wrong audience": es.mint(aud="http://other.test", sub=sub),
            "expired": es.mint(exp=int(time.time()) - 1, sub=sub),
            "no exp": es.mint(exp=None, sub=sub),
            "no iat": es.mint(iat=None, sub=sub),
            "no sub": es.mint(sub=None),
            "alg none": unsigned,
            "HS256 with the public key as secret": hs256(public_pem, {"typ": "at+jwt", "kid": "es-1"}, es.claims(sub=sub)),
            "forged with the same kid": other.mint(sub=sub),
            "unknown kid": Signer("es-9").mint(sub=sub),
            "no kid": es.mint(header={"kid": None}, sub=sub),
            "critical header": es.mint(header={"crit": ["exp"], "exp": 1}, sub=sub),
            "a JWE (edgeauth's refresh token)": "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aaaa.bbbb.cccc",
            "garbage": "not-a-token",
            "sub of no user": es.mint(sub="999999"),
            "sub not a primary key": es.mint(sub="dev|abc"),
        }
        for name, token in cases.items():
            with self.subTest(name):
                resp = self.call(token)
                self.assertEqual(resp.status_code, 401, resp.data)
                self.assertEqual(resp["WWW-Authenticate"], 'Bearer realm="api"')

    def test_opaque_bearer_tokens_reach_the_next_class(self):
        get_user_model().objects.create_user("legacy")
        factory = APIRequestFactory()
        resp = side_by_side(factory.get("/", HTTP_AUTHORIZATION="Bearer opaque-token"))
        self.assertEqual((resp.status_code, resp.data), (200, {"username": "legacy"}))
        resp = side_by_side(factory.get("/", HTTP_AUTHORIZATION="Bearer " + self.es.mint(sub=str(self.user.pk))))
        self.assertEqual((resp.status_code, resp.data), (200, {"username": "ada@example.com"}))
        resp = side_by_side(factory.get("/", HTTP_AUTHORIZATION="Bearer " + self.es.mint(iss="http://evil.test")))
        self.assertEqual(resp.status_code, 401, "a bad JWS fell through to the next class")

    def test_inactive_user(self):
        self.user.is_active = False
        self.user.save()
        self.assertEqual(self.call(self.es.mint(sub=str(self.user.pk))).status_code, 401)

    def test_without_a_token_401_with_a_challenge(self):
        for name, (token, scheme) in {"none": (None, ""), "basic": ("dXNlcjpwYXNz", "Basic"),
                                      "empty bearer": ("", "Bearer"), "two parts": ("a b", "Bearer")}.items():
            with self.subTest(name):
                resp = self.call(token, scheme)
                self.assertEqual(resp.status_code, 401)
                self.assertEqual(resp["WWW-Authenticate"], 'Bearer realm="api"')

    def test_keys_are_cached(self):
        token = self.es.mint(sub=str(self.user.pk))
        for _ in range(5):
            self.assertEqual(self.call(token).status_code, 200)
        self.assertEqual(self.jwks.fetches, 1)

    def test_unknown_kids_do_not_flood_the_jwks(self):
        self.call(self.es.mint(sub=str(self.user.pk)))
        for i in range(5):
            self.assertEqual(self.call(Signer(f"made-up-{i}").mint(sub=str(self.user.pk))).status_code, 401)
        self.assertEqual(self.jwks.fetches, 1, "an unknown kid within JWKS_MIN_REFRESH_SECONDS fetched the JWKS")

    def test_a_new_key_is_fetched(self):
        # edgeauth publishes a key before it signs with it; a token by a key not yet seen
        # makes one refresh, once the minimum interval has passed.
        with override_settings(EDGEAUTH={"ISSUER": ISSUER, "JWKS_URL": self.jwks.url, "JWKS_MIN_REFRESH_SECONDS": 0}):
            self.assertEqual(self.call(self.es.mint(sub=str(self.user.pk))).status_code, 200)
            new = Signer("es-2")
            self.jwks.jwks = {"keys": [new.jwk, self.es.jwk]}
            self.assertEqual(self.call(new.mint(sub=str(self.user.pk))).status_code, 200)
            self.assertEqual(self.jwks.fetches, 2)

    def test_jwks_down(self):
        self.jwks.down = True
        resp = self.call(self.es.mint(sub=str(self.user.pk)))
        self.assertEqual(resp.status_code, 503, resp.data)

    def test_stale_keys_are_used_when_the_jwks_is_down(self):
        with override_settings(EDGEAUTH={"ISSUER": ISSUER, "JWKS_URL": self.jwks.url, "JWKS_CACHE_SECONDS": 1,
                                         "JWKS_MIN_REFRESH_SECONDS": 0}):
            token = self.es.mint(sub=str(self.user.pk))
            self.assertEqual(self.call(token).status_code, 200)
            self.jwks.down = True
            # Age the cached set past its lifespan instead of waiting for it.
            authentication._client().jwk_set_cache.jwk_set_with_timestamp.timestamp -= 10
            self.assertEqual(self.call(token).status_code, 200)
            self.assertEqual(self.jwks.fetches, 2)

    def test_audience_setting(self):
        with override_settings(EDGEAUTH={"ISSUER": ISSUER, "AUDIENCE": "https://api.example.test", "JWKS_URL": self.jwks.url}):
            self.assertEqual(self.call(self.es.mint(sub=str(self.user.pk))).status_code, 401)
            self.assertEqual(self.call(self.es.mint(aud="https://api.example.test", sub=str(self.user.pk))).status_code, 200)

    def test_algorithms_setting_pins(self):
        with override_settings(EDGEAUTH={"ISSUER": ISSUER, "JWKS_URL": self.jwks.url, "ALGORITHMS": ["EdDSA"]}):
            self.assertEqual(self.call(self.es.mint(sub=str(self.user.pk))).status_code, 401)
            self.assertEqual(self.call(self.ed.mint(sub=str(self.user.pk))).status_code, 200)

    def test_verify_access_token_returns_the_claims(self):
        claims = verify_access_token(self.es.mint(sub="42", email="ada@example.com", role="member"))
        self.assertEqual((claims["sub"], claims["email"], claims["role"]), ("42", "ada@example.com", "member"))
