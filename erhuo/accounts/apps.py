from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    from erhuo.accounts.services import roles_sync

    roles_sync()


class AccountsConfig(AppConfig):
    name = "erhuo.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # After every migrate, so that permissions of apps added later reach their roles.
        post_migrate.connect(_sync_roles, dispatch_uid="erhuo.accounts.sync_roles")
