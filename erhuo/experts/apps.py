from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExpertsConfig(AppConfig):
    name = "erhuo.experts"
    label = "experts"
    verbose_name = _("Experts")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from erhuo.experts.referrals import attribute_on_login

        # A referral link visited before logging in counts from the visit once the visitor logs in or signs up.
        # Django's own login hook is the one place every login passes through, pages and admin alike.
        user_logged_in.connect(attribute_on_login, dispatch_uid="erhuo.experts.attribute_on_login")
