from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketConfig(AppConfig):
    name = "erhuo.market"
    verbose_name = _("Market")

    def ready(self):
        from erhuo.market import handlers

        handlers.register()
