"""The market's ledger accounts (created on first use through `ledger.services.account_for`)."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger.models import Account
from erhuo.ledger.services import account_for

ESCROW = "escrow:orders"
COMMISSION_INCOME = "income:commission"
SERVICE_FEE_INCOME = "income:service_fees"
SHIPPING_INCOME = "income:shipping"
DISCOUNTS = "expense:discounts"
SELLER_PAYABLE_KIND = "seller"


def _name(message: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(message)


def escrow_account() -> Account:
    return account_for(
        code=ESCROW,
        name=_name(gettext_noop("Buyers' payments held until their orders complete")),
        kind=Account.Kind.LIABILITY,
    )


def commission_account() -> Account:
    return account_for(
        code=COMMISSION_INCOME, name=_name(gettext_noop("Commission on sales")), kind=Account.Kind.INCOME
    )


def service_fee_account() -> Account:
    return account_for(
        code=SERVICE_FEE_INCOME,
        name=_name(gettext_noop("Service fees (authentication, care)")),
        kind=Account.Kind.INCOME,
    )


def shipping_account() -> Account:
    return account_for(
        code=SHIPPING_INCOME, name=_name(gettext_noop("Shipping fees charged")), kind=Account.Kind.INCOME
    )


def seller_payable_account(user) -> Account:
    return ledger_accounts.payable_account(SELLER_PAYABLE_KIND, user)


def seller_payable_code(user_id: int) -> str:
    return ledger_accounts.payable_code(SELLER_PAYABLE_KIND, user_id)


def discount_account() -> Account:
    return account_for(code=DISCOUNTS, name=_name(gettext_noop("Discounts given to buyers")), kind=Account.Kind.EXPENSE)
