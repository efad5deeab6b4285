from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.models import (
    AccountStatusChange,
    Address,
    ApiToken,
    DeletionRequest,
    DeletionRequestTransition,
    PersonalDataAccess,
    RoleChange,
    User,
)
from erhuo.core.pii import mask_address, mask_name, mask_phone


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit rows: visible to operators, never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class UserAddForm(AdminUserCreationForm):
    phone = forms.CharField(label=_("phone number"), max_length=20)

    class Meta:
        model = User
        fields = ("username", "display_name")

    def clean_phone(self):
        from erhuo.accounts.services import _check_phone
        from erhuo.core.errors import DomainError

        try:
            return _check_phone(self.cleaned_data["phone"])
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserAddForm
    list_display = ["username", "display_name", "masked_phone_column", "city", "status", "is_staff", "date_joined"]
    list_filter = ["status", "is_staff", "groups"]
    search_fields = ["username", "display_name"]
    ordering = ["-date_joined"]
    readonly_fields = ["status", "date_joined", "last_login", "masked_phone_column"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Profile"), {"fields": ["display_name", "masked_phone_column", "city", "bio", "avatar"]}),
        (_("Access"), {"fields": ["status", "is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "display_name", "phone", "password1", "password2"]})
    ]

    @admin.display(description=_("phone number"))
    def masked_phone_column(self, obj):
        return obj.masked_phone

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Roles change through the operator console so that each change is recorded.
            fields += ["groups", "is_staff", "is_superuser", "is_active"]
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.set_phone(form.cleaned_data["phone"])
        super().save_model(request, obj, form, change)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["user", "label", "province", "city", "district", "is_default", "updated_at"]
    list_filter = ["province"]
    search_fields = ["user__username", "user__display_name"]
    raw_id_fields = ["user"]
    exclude = ["recipient_name", "recipient_phone", "detail"]
    readonly_fields = ["masked_recipient"]

    @admin.display(description=_("recipient"))
    def masked_recipient(self, obj):
        return f"{mask_name(obj.recipient_name)} {mask_phone(obj.recipient_phone)} {mask_address(obj.detail)}"


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "user", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    search_fields = ["user__username", "prefix"]
    exclude = ["digest"]


@admin.register(RoleChange)
class RoleChangeAdmin(ReadOnlyAdmin):
    list_display = ["user", "role", "granted", "actor", "note", "created_at"]
    list_filter = ["role", "granted"]


@admin.register(AccountStatusChange)
class AccountStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["subject", "from_state", "to_state", "actor", "note", "created_at"]


# --- personal data: the access log and deletion requests (read-only: decisions go through the pages) ----


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "subject", "fields", "reason", "path", "ip_address"]
    list_filter = ["reason"]
    search_fields = ["actor__username", "subject__username"]
    raw_id_fields = ["actor", "subject"]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("accounts.view_personal_data_access")


class DeletionRequestTransitionInline(admin.TabularInline):
    model = DeletionRequestTransition
    extra = 0
    can_delete = False
    fields = ["created_at", "from_state", "to_state", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DeletionRequest)
class DeletionRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "user", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["user__username"]
    raw_id_fields = ["user", "decided_by"]
    inlines = [DeletionRequestTransitionInline]
