"""Verification providers: who checks each part of an application.

One provider class per check kind (identity, phone, alipay, credit), chosen
in settings:

    ERHUO_VERIFICATION_PROVIDERS = {
        "identity": "erhuo.trust.providers.OperatorReviewProvider",
        "credit": "mycompany.sesame.SesameCreditProvider",
        ...
    }

A kind not named uses `OperatorReviewProvider`, which decides nothing: the
check stays pending and the application waits in the operators' review
queue with the evidence the member uploaded. A provider that calls a real
service (e.g. a real-name check against the public security database, or
Alipay's Sesame credit API) returns passed or failed with a detail that the
reviewer reads. Providers run after the application is saved and outside
its transaction (a slow service must not hold locks); an exception counts
as "pending" and leaves the decision to an operator.

The local rules (a valid ID number, the score threshold, one identity per
account) run before any provider, in `services.verification`.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from erhuo.trust.models.verification import SellerVerification, VerificationCheck

Kind = VerificationCheck.Kind
Result = VerificationCheck.Result

DEFAULT_PROVIDER = "erhuo.trust.providers.OperatorReviewProvider"


@dataclass(frozen=True)
class CheckResult:
    status: str  # VerificationCheck.Result
    detail: str = ""


class VerificationProvider:
    """Checks one kind of evidence. Subclasses set `name` and implement `check`."""

    name = "provider"

    def __init__(self, kind: str):
        self.kind = kind

    def check(self, verification: SellerVerification) -> CheckResult:
        raise NotImplementedError


class OperatorReviewProvider(VerificationProvider):
    """The default: an operator compares the evidence with the ID photos and decides."""

    name = "operator_review"

    def check(self, verification: SellerVerification) -> CheckResult:
        return CheckResult(Result.PENDING, _("Waiting for an operator to compare it with the evidence."))


class AutomaticPassProvider(VerificationProvider):
    """Passes every check at once. For tests and local demos only; never configure it in production."""

    name = "automatic_pass"

    def check(self, verification: SellerVerification) -> CheckResult:
        return CheckResult(Result.PASSED, _("Passed automatically (test provider)."))


@lru_cache(maxsize=32)
def _provider_class(path: str) -> type[VerificationProvider]:
    provider = import_string(path)
    if not (isinstance(provider, type) and issubclass(provider, VerificationProvider)):
        raise TypeError(f"{path} is not a VerificationProvider")
    return provider


def provider_for(kind: str) -> VerificationProvider:
    configured = getattr(settings, "ERHUO_VERIFICATION_PROVIDERS", None) or {}
    return _provider_class(configured.get(kind, DEFAULT_PROVIDER))(kind)
