from django.urls import path

import edgeauth_django.views

from . import views

urlpatterns = [
    path("edgeauth/webhook", edgeauth_django.views.webhook),
    path("api/me", views.me),
]
