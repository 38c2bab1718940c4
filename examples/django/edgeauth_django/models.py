from django.conf import settings
from django.db import models


class EdgeauthIdentity(models.Model):
    """A person at a provider, as edgeauth names them: the provider's name and its stable subject.

    Users are found by this pair, never by email: an address can change hands, or be claimed
    unverified at another provider.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="edgeauth_identities")
    provider = models.CharField(max_length=64)
    subject = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)
    last_login = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "subject"], name="edgeauth_identity_unique")]
        verbose_name = "edgeauth identity"
        verbose_name_plural = "edgeauth identities"

    def __str__(self):
        return f"{self.provider}|{self.subject}"


class WebhookDelivery(models.Model):
    """A webhook-id already answered: edgeauth retries with the same id, and gets the same user."""

    webhook_id = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=32)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return self.webhook_id
