"""The ledger's well-known accounts, by code.

Codes are stable strings; an account is created the first time it is used
(`services.account_for`). Per-person accounts carry the user's id in the
code and point at the user as owner.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from erhuo.ledger.models import Account


def _(message: str) -> str:
    """An account's name is data written once: always in the site's language, not the visitor's."""
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(message)


CLEARING_PAYMENTS = "clearing:payments"
DEPOSIT_FORFEITS = "income:deposit_forfeits"
EXPERT_COMMISSIONS = "expense:expert_commissions"
PAYOUTS_IN_TRANSIT = "payouts:in_transit"


CASH_NAMES = {
    "manual": gettext_noop("Money received on the group's account (transfers)"),
    "sandbox": gettext_noop("Money received in the sandbox (demo)"),
    "alipay": gettext_noop("Money received through Alipay"),
    "wechat": gettext_noop("Money received through WeChat Pay"),
    "bank": gettext_noop("Money paid out from the bank account"),
}
BANK = "bank"


def cash_code(provider: str) -> str:
    return f"cash:{provider}"


def deposit_code(user_id: int) -> str:
    return f"deposit:{user_id}"


def payable_code(kind: str, user_id: int) -> str:
    return f"payable:{kind}:{user_id}"


def cash_account(provider: str) -> Account:
    from erhuo.ledger.services import account_for

    return account_for(
        code=cash_code(provider),
        name=_(CASH_NAMES[provider]) if provider in CASH_NAMES else provider,
        kind=Account.Kind.ASSET,
    )


def clearing_account() -> Account:
    from erhuo.ledger.services import account_for

    return account_for(
        code=CLEARING_PAYMENTS, name=_("Payments received, not yet allocated"), kind=Account.Kind.LIABILITY
    )


def deposit_account(user) -> Account:
    from erhuo.ledger.services import account_for

    return account_for(
        code=deposit_code(user.pk),
        name=_("Deposit held for seller #%(id)s") % {"id": user.pk},
        kind=Account.Kind.LIABILITY,
        owner=user,
    )


def forfeits_account() -> Account:
    from erhuo.ledger.services import account_for

    return account_for(code=DEPOSIT_FORFEITS, name=_("Deposits forfeited for violations"), kind=Account.Kind.INCOME)


def payable_account(kind: str, user) -> Account:
    from erhuo.ledger.services import account_for

    return account_for(
        code=payable_code(kind, user.pk),
        name=_("Owed to user #%(id)s (%(kind)s)") % {"id": user.pk, "kind": kind},
        kind=Account.Kind.LIABILITY,
        owner=user,
    )


def expert_commissions_account() -> Account:
    from erhuo.ledger.services import account_for

    return account_for(code=EXPERT_COMMISSIONS, name=_("Expert commissions"), kind=Account.Kind.EXPENSE)


def payouts_in_transit_account() -> Account:
    from erhuo.ledger.services import account_for

    return account_for(
        code=PAYOUTS_IN_TRANSIT,
        name=_("Payouts on their way to payees (batched, not yet confirmed)"),
        kind=Account.Kind.LIABILITY,
    )
