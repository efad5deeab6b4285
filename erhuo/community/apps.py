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

        from django.db.models.signals import post_migrate

        post_migrate.connect(seed_taxonomy_after_migrate, sender=self, dispatch_uid="erhuo.community.taxonomy")


def seed_taxonomy_after_migrate(sender, using="default", **kwargs):
    """A fresh install gets the default tag taxonomy, so the questionnaire has options from the start.

    Only into an empty tag table (operators own the taxonomy after that), and not in the test suite,
    whose tests make the tags they need (erhuo/community/tests/test_groups_taxonomy covers this).
    """
    from django.conf import settings

    from erhuo.community.models import Tag
    from erhuo.community.services.groups import taxonomy_seed

    if settings.TESTING or Tag.objects.using(using).exists():
        return
    taxonomy_seed()
