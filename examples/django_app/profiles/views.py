from django.shortcuts import get_object_or_404, redirect, render

from .forms import ProfileForm
from .models import Profile


def profile_list(request):
    return render(request, "profiles/list.html", {"profiles": Profile.objects.order_by("-pk")})


def profile_new(request):
    form = ProfileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        profile = form.save()  # stages the image and returns at once; run_huey uploads it
        return redirect("profile", pk=profile.pk)
    return render(request, "profiles/new.html", {"form": form}, status=400 if form.errors else 200)


def profile_detail(request, pk):
    return render(request, "profiles/profile.html", {"profile": get_object_or_404(Profile, pk=pk), "alt": "avatar"})
