"""Roles are Django groups. This registry is the one list of them.

Permissions are named "app_label.codename". A role may name permissions of
apps that later issues add; `roles_sync` grants only those that exist, and
runs again after every migrate, so a new app's permissions reach its roles
without a data migration.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    description: str
    is_operator: bool = False
    permissions: tuple[str, ...] = field(default_factory=tuple)


MEMBER = "member"
SELLER = "seller"
EXPERT = "expert"
COMMUNITY_MANAGER = "community_manager"
INTAKE_CLERK = "intake_clerk"
AUTHENTICATOR = "authenticator"
CARE_TECHNICIAN = "care_technician"
PHOTOGRAPHER = "photographer"
CUSTOMER_SERVICE = "customer_service"
FINANCE = "finance"
OWNER = "owner"

_CONSOLE = "accounts.view_operator_console"
_STATIONS = ("prescreen", "receive", "grade", "authenticate", "care", "photograph", "price", "returns")

ROLES: dict[str, Role] = {
    role.code: role
    for role in [
        Role(MEMBER, _("Member"), _("Joins groups, browses, claims and buys.")),
        Role(SELLER, _("Seller"), _("A verified member who consigns idle items.")),
        Role(EXPERT, _("Expert"), _("Leads groups, curates items, gives styling advice.")),
        Role(
            COMMUNITY_MANAGER,
            _("Community manager"),
            _("Runs groups, placement and activities."),
            is_operator=True,
            permissions=(
                _CONSOLE,
                "accounts.view_member_directory",
                "accounts.suspend_member",
                "consignment.work_price",
                "experts.review_application",
                "market.view_all_orders",
                "market.moderate_buyer_show",
                "community.manage_community",
            ),
        ),
        Role(
            INTAKE_CLERK,
            _("Intake clerk"),
            _("Pre-screens submissions and receives parcels."),
            is_operator=True,
            permissions=(
                _CONSOLE,
                "consignment.work_prescreen",
                "consignment.work_receive",
                "consignment.work_grade",
                "consignment.work_returns",
                "market.fulfil_order",
                "market.view_all_orders",
            ),
        ),
        Role(
            AUTHENTICATOR,
            _("Authenticator"),
            _("Authenticates branded and luxury items."),
            is_operator=True,
            permissions=(_CONSOLE, "consignment.work_authenticate", "consignment.work_grade"),
        ),
        Role(
            CARE_TECHNICIAN,
            _("Care technician"),
            _("Washes, disinfects and repairs items."),
            is_operator=True,
            permissions=(_CONSOLE, "consignment.work_care"),
        ),
        Role(
            PHOTOGRAPHER,
            _("Photographer"),
            _("Photographs items flat, on-body and in detail."),
            is_operator=True,
            permissions=(_CONSOLE, "consignment.work_photograph"),
        ),
        Role(
            CUSTOMER_SERVICE,
            _("Customer service"),
            _("Answers members, handles returns and disputes."),
            is_operator=True,
            permissions=(
                _CONSOLE,
                "accounts.view_member_directory",
                "accounts.view_member_pii",
                "accounts.view_address",
                "accounts.process_deletion_request",
                "trust.review_verification",
                "trust.view_identity_documents",
                "trust.decide_deposit_deduction",
                "market.decide_return",
                "market.manage_order",
                "market.view_all_orders",
                "market.moderate_buyer_show",
            ),
        ),
        Role(
            FINANCE,
            _("Finance"),
            _("Confirms payments, runs payouts and reconciliation."),
            is_operator=True,
            permissions=(
                _CONSOLE,
                "payments.confirm_manual_payment",
                "ledger.view_ledger",
                "ledger.manage_payouts",
                "market.view_all_orders",
                "trust.confirm_deposit_return",
            ),
        ),
        Role(
            OWNER,
            _("Owner"),
            _("Runs the platform; assigns roles to staff."),
            is_operator=True,
            permissions=(
                _CONSOLE,
                "accounts.view_member_directory",
                "accounts.view_member_pii",
                "accounts.suspend_member",
                "accounts.manage_roles",
                "accounts.view_user",
                "accounts.change_user",
                "accounts.view_address",
                "accounts.view_apitoken",
                "accounts.view_rolechange",
                "accounts.view_accountstatuschange",
                "auth.view_group",
                *(f"consignment.work_{station}" for station in _STATIONS),
                "consignment.record_loss",
                "catalog.view_category",
                "catalog.add_category",
                "catalog.change_category",
                "catalog.view_brand",
                "catalog.add_brand",
                "catalog.change_brand",
                "catalog.view_item",
                "catalog.view_itemtransition",
                "consignment.view_stationsetting",
                "consignment.change_stationsetting",
                "consignment.view_intakebatch",
                "consignment.view_consignment",
                "consignment.view_carerecord",
                "consignment.view_authenticationreport",
                "catalog.view_itemphoto",
                "accounts.process_deletion_request",
                "accounts.view_personal_data_access",
                "trust.review_verification",
                "trust.view_identity_documents",
                "trust.decide_deposit_deduction",
                "experts.review_application",
                "ledger.view_ledger",
                # Policies (thresholds, deposit amounts, commission shares) are edited in the admin.
                "trust.view_trustpolicy",
                "trust.change_trustpolicy",
                "trust.view_depositpolicy",
                "trust.change_depositpolicy",
                "experts.view_expertpolicy",
                "experts.change_expertpolicy",
                "trust.view_sellerverification",
                "trust.view_sellerrecord",
                "trust.view_sellerlevelchange",
                "market.fulfil_order",
                "market.manage_order",
                "market.decide_return",
                "market.view_all_orders",
                "market.moderate_buyer_show",
                "community.manage_community",
            ),
        ),
    ]
}

OPERATOR_ROLES = tuple(code for code, role in ROLES.items() if role.is_operator)


def role_label(code: str) -> str:
    role = ROLES.get(code)
    return str(role.label) if role else code
