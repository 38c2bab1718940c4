from django.contrib import admin

from .models import EdgeauthIdentity, WebhookDelivery


@admin.register(EdgeauthIdentity)
class EdgeauthIdentityAdmin(admin.ModelAdmin):
    list_display = ("provider", "subject", "user", "created", "last_login")
    list_filter = ("provider",)
    search_fields = ("subject", "user__username", "user__email")
    raw_id_fields = ("user",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("webhook_id", "event_type", "user", "created")
    raw_id_fields = ("user",)
