"""A root URLconf with cfvariants' direct-upload routes and a page with a direct-upload form (the tests')."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

from cfvariants.django.direct_upload import DirectUploadField, DirectUploadForm


class AvatarForm(DirectUploadForm, forms.Form):
    avatar = DirectUploadField()


def avatar(request: HttpRequest) -> HttpResponse:
    form = AvatarForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            return JsonResponse({"saved": form.cleaned_data["avatar"]})
        return JsonResponse({"errors": form.errors}, status=400)
    return HttpResponse(f"<form method=post>{form.as_p()}<button>Save</button></form>")


urlpatterns = [
    path("avatar", avatar),
    path("cfvariants/", include("cfvariants.django.direct_upload")),
    path("", include("cfvariants.django.urls")),
]
