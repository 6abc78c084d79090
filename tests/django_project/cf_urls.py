"""A root URLconf that includes cfvariants' development delivery routes, as a project would."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("home")


urlpatterns = [
    path("", home),
    path("", include("cfvariants.django.urls")),
]
