from django.urls import path

from . import views

urlpatterns = [
    path("", views.profile_list, name="profiles"),
    path("new/", views.profile_new, name="profile-new"),
    path("profiles/<int:pk>/", views.profile_detail, name="profile"),
]
