from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "erhuo.community"
    label = "community"
    verbose_name = _("Community")

    def ready(self):
        # Event handlers (behaviour tags from views, claims and purchases) register on import.
        from erhuo.community import handlers  # noqa: F401
