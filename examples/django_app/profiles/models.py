from django.db import models

from cfvariants.django.storage import select_storage


class Profile(models.Model):
    """The original app's model: the image is on Cloudflare Images (the local emulator in dev)."""

    name = models.CharField(max_length=100)
    image = models.ImageField(storage=select_storage, upload_to="avatars", blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def image_url(self):
        """The original templates said ``profile.image_url|variant:...``; the field file is what they need."""
        return self.image
