from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "erhuo.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from erhuo.payments import checks  # noqa: F401 (registers the providers' configuration check)
