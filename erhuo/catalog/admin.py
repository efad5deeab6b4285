"""Admin for the catalog: the owner edits categories (with their rules) and brands; items are read-mostly.

An item's status, price and grade change only through the consignment
services (each move is a step of its chain of custody), so the admin shows
them read-only; only descriptive text can be corrected here.
"""

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.admin import ReadOnlyAdmin
from erhuo.catalog.models import Brand, CareStep, Category, Item, ItemPhoto, ItemTransition
from erhuo.core.money import format_fen


class CategoryAdminForm(forms.ModelForm):
    care_steps = forms.MultipleChoiceField(
        label=_("required care steps"),
        choices=CareStep.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the parent category's steps apply."),
    )

    class Meta:
        model = Category
        fields = [
            "parent",
            "name",
            "slug",
            "position",
            "authentication",
            "authentication_threshold_fen",
            "care_steps",
            "is_returnable",
            "return_window_days",
            "needs_on_body_photo",
            "self_ship_max_fen",
        ]

    def clean_care_steps(self):
        chosen = set(self.cleaned_data["care_steps"])
        # Keep the choices' order, so the steps read in working order.
        return [step for step in CareStep.values if step in chosen]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = [
        "path_name",
        "slug",
        "authentication",
        "threshold_column",
        "care_steps_column",
        "is_returnable",
        "needs_on_body_photo",
        "self_ship_column",
    ]
    list_select_related = ["parent"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter), "authentication"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["position", "pk"]
    fieldsets = [
        (None, {"fields": ["parent", "name", "slug", "position"]}),
        (
            _("Rules (empty: inherited from the parent)"),
            {
                "fields": [
                    "authentication",
                    "authentication_threshold_fen",
                    "care_steps",
                    "is_returnable",
                    "return_window_days",
                    "needs_on_body_photo",
                    "self_ship_max_fen",
                ]
            },
        ),
    ]

    @admin.display(description=_("path"), ordering="position")
    def path_name(self, obj):
        return obj.path_name

    @admin.display(description=_("authentication above"))
    def threshold_column(self, obj):
        return format_fen(obj.authentication_threshold_fen) or "—"

    @admin.display(description=_("care steps"))
    def care_steps_column(self, obj):
        labels = dict(CareStep.choices)
        return "、".join(str(labels.get(step, step)) for step in obj.care_steps or []) or "—"

    @admin.display(description=_("self-ship up to"))
    def self_ship_column(self, obj):
        return format_fen(obj.self_ship_max_fen) or "—"

    def has_delete_permission(self, request, obj=None):
        # Items point at categories; retire a category by renaming or moving it instead.
        return False


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "name_zh", "tier"]
    list_filter = ["tier"]
    search_fields = ["name", "name_zh"]

    def has_delete_permission(self, request, obj=None):
        return False


class ItemPhotoInline(admin.TabularInline):
    model = ItemPhoto
    extra = 0
    can_delete = False
    fields = ["preview", "kind", "caption", "uploaded_by", "step", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def preview(self, obj):
        source = obj.thumbnail or obj.image
        return format_html('<img src="{}" width="64" height="64" alt="">', source.url) if source else "—"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ItemTransitionInline(admin.TabularInline):
    model = ItemTransition
    extra = 0
    can_delete = False
    fields = ["created_at", "from_state", "to_state", "actor", "note", "data"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "category", "brand", "seller", "grade", "price_column", "status_changed_at"]
    list_filter = ["status", "fulfilment", "channel", "grade", ("category", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["category", "category__parent", "brand", "seller"]
    search_fields = ["title", "consignment__label_code", "seller__username", "seller__display_name"]
    date_hierarchy = "created_at"
    inlines = [ItemPhotoInline, ItemTransitionInline]
    # Descriptive text may be corrected; everything that is a step of the pipeline is read-only.
    editable_fields = {"title", "description", "size", "colour", "video_url", "channel"}
    fields = [
        "title",
        "description",
        "seller",
        "category",
        "brand",
        "size",
        "colour",
        "measurements",
        "original_price_fen",
        "purchase_year",
        "declared_grade",
        "grade",
        "defects",
        "video_url",
        "fulfilment",
        "channel",
        "price_fen",
        "floor_price_fen",
        "status",
        "status_changed_at",
        "listed_at",
        "created_at",
        "updated_at",
    ]

    @admin.display(description=_("price"), ordering="price_fen")
    def price_column(self, obj):
        return format_fen(obj.price_fen) or "—"

    def get_readonly_fields(self, request, obj=None):
        return [name for name in self.fields if name not in self.editable_fields]

    def has_add_permission(self, request):
        # Items come in through the seller's submission, never from the admin.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ItemPhoto)
class ItemPhotoAdmin(ReadOnlyAdmin):
    list_display = ["item", "kind", "uploaded_by", "step", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["item", "uploaded_by"]
    search_fields = ["item__title"]


@admin.register(ItemTransition)
class ItemTransitionAdmin(ReadOnlyAdmin):
    list_display = ["subject", "from_state", "to_state", "actor", "note", "created_at"]
    list_filter = ["to_state"]
    list_select_related = ["subject", "actor"]
    search_fields = ["subject__title", "subject__consignment__label_code"]
