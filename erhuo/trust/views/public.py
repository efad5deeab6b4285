"""Public pages: a seller's page and the written rule of seller levels.

No login needed. A seller's page shows her display name, avatar, whether
she is verified, her level and what it means, her record and the items she
has on sale. Nothing personal: no real name, phone, city or anything of the
verification. Accounts that are not (and never were) sellers answer 404.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET

from erhuo.trust import levels, selectors
from erhuo.trust.models import SellerLevel


def item_url(item_id: int) -> str:
    # The item page belongs to consignment, above us: reach it by its URL name, never by import.
    try:
        return reverse("consignment:item_public", args=[item_id])
    except NoReverseMatch:
        return f"/items/{item_id}/"


@require_GET
def seller_page(request, username: str):
    seller = selectors.public_seller(username=username)
    if seller is None:
        raise Http404
    cards = []
    for item in seller.items:
        photo = selectors.cover_photo(item)
        thumb = ""
        if photo is not None:
            thumb = (photo.thumbnail or photo.image).url
        cards.append({"item": item, "thumb": thumb, "url": item_url(item.pk)})
    return render(request, "trust/public/seller.html", {"seller": seller, "cards": cards})


@require_GET
def level_rule(request):
    return render(
        request,
        "trust/public/levels.html",
        {
            "rows": levels.rule_rows(),
            "meanings": [(SellerLevel(level).label, meaning) for level, meaning in levels.LEVEL_MEANINGS.items()],
            "window_days": levels.AUTHENTICATION_WINDOW_DAYS,
        },
    )


urlpatterns = [
    path("trust/levels/", level_rule, name="levels"),
    path("sellers/<str:username>/", seller_page, name="seller_public"),
]
