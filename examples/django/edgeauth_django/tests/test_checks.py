import base64

from django.test import SimpleTestCase, override_settings

from edgeauth_django import conf
from edgeauth_django.checks import check_settings

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


class SettingsTests(SimpleTestCase):
    def ids(self, **edgeauth):
        with override_settings(EDGEAUTH=edgeauth):
            return sorted(e.id for e in check_settings())

    def test_checks(self):
        cases = {
            "complete": ({"ISSUER": "https://auth.example.com", "WEBHOOK_SECRET": SECRET}, []),
            "no issuer": ({"WEBHOOK_SECRET": SECRET}, ["edgeauth_django.E001"]),
            "issuer not a URL": ({"ISSUER": "auth.example.com", "WEBHOOK_SECRET": SECRET}, ["edgeauth_django.E002"]),
            "symmetric algorithm": ({"ISSUER": "https://a.test", "WEBHOOK_SECRET": SECRET, "ALGORITHMS": ["HS256"]}, ["edgeauth_django.E003"]),
            "algorithms a string": ({"ISSUER": "https://a.test", "WEBHOOK_SECRET": SECRET, "ALGORITHMS": "ES256"}, ["edgeauth_django.E003"]),
            "no webhook secret": ({"ISSUER": "https://a.test"}, ["edgeauth_django.W001"]),
            "bad webhook secret": ({"ISSUER": "https://a.test", "WEBHOOK_SECRET": "whsec_"}, ["edgeauth_django.E004"]),
            "hook not importable": ({"ISSUER": "https://a.test", "WEBHOOK_SECRET": SECRET, "DENY": "no.such.hook"}, ["edgeauth_django.E005"]),
        }
        for name, (setting, want) in cases.items():
            with self.subTest(name):
                self.assertEqual(self.ids(**setting), want)

    def test_defaults_derive_from_the_issuer(self):
        with override_settings(EDGEAUTH={"ISSUER": "https://auth.example.com/"}):
            self.assertEqual(conf.get("AUDIENCE"), "https://auth.example.com/")
            self.assertEqual(conf.get("JWKS_URL"), "https://auth.example.com/.well-known/jwks.json")
        with override_settings(EDGEAUTH={"ISSUER": "https://a.test", "AUDIENCE": "api", "JWKS_URL": "https://k.test/jwks"}):
            self.assertEqual((conf.get("AUDIENCE"), conf.get("JWKS_URL")), ("api", "https://k.test/jwks"))
