"""Django and Django REST framework integration for edgeauth.

Add ``"edgeauth_django"`` to ``INSTALLED_APPS``, set ``EDGEAUTH = {"ISSUER": ..., "WEBHOOK_SECRET": ...}``,
route :func:`edgeauth_django.views.webhook` and put
:class:`edgeauth_django.authentication.EdgeauthAuthentication` in DRF's
``DEFAULT_AUTHENTICATION_CLASSES``. See README.md.
"""

__version__ = "0.1.0"
