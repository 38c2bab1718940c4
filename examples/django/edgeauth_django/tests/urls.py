from django.urls import path

from edgeauth_django import views

urlpatterns = [path("edgeauth/webhook", views.webhook)]
