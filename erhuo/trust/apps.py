from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrustConfig(AppConfig):
    name = "erhuo.trust"
    label = "trust"
    verbose_name = _("Trust")

    def ready(self):
        # Lower apps tell us things through events (they cannot import us): the catalog about sales and
        # failed authentications (seller record), payments about deposits paid (handlers.py).
        from erhuo.trust import handlers  # noqa: F401
        from erhuo.trust.services.record import register_event_handlers

        register_event_handlers()
