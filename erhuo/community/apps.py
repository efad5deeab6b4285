from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "erhuo.community"
    label = "community"
    verbose_name = _("Community")

    def ready(self):
        # Event handlers (behaviour tags from views, claims and purchases) register on import; the pieces
        # the community adds to lower apps' pages (a seller's items in your groups) register here.
        from erhuo.community import handlers, page_slots  # noqa: F401

        page_slots.register()
