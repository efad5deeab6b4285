"""Private files: stored outside MEDIA_ROOT, so no URL can reach them.

Transfer screenshots and deposit-deduction evidence are personal and read
only through views that check who is asking. Public media (item photos,
avatars, portfolios) are served from MEDIA_URL; these are not: the storage
lives under `ERHUO_PRIVATE_MEDIA_ROOT` and has no URL at all.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateFileStorage(FileSystemStorage):
    # Read the setting on every use (not once at import), so tests and
    # deployments can point it elsewhere.
    @property
    def base_location(self):
        return str(settings.ERHUO_PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a permission-checked view.")


def private_storage() -> PrivateFileStorage:
    """Callable for `FileField(storage=...)`, so migrations do not freeze a path."""
    return PrivateFileStorage()
