from django.apps import AppConfig


class EdgeauthConfig(AppConfig):
    name = "edgeauth_django"
    verbose_name = "edgeauth"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401  registers the settings check
