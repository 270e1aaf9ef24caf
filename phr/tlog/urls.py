"""Public paths of the tamper-evident logs, under /logs/ (wired from config/urls.py)."""

from __future__ import annotations

from django.urls import path

from phr.tlog import views

app_name = "logs"

urlpatterns = [
    path("<str:name>/checkpoint", views.checkpoint, name="checkpoint"),
    path("<str:name>/verifier", views.verifier, name="verifier"),
    path("<str:name>/proof", views.inclusion, name="proof"),
    path("<str:name>/consistency", views.consistency, name="consistency"),
]
