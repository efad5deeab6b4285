"""Buyer shows (买家秀): posted after delivery, public on the item, featured or hidden by operators."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from erhuo.core.api import ErrorOut
from erhuo.core.errors import NotFound
from erhuo.core.pii import mask_name
from erhuo.market import selectors, services
from erhuo.market.api.common import ERRORS, Id, require, visible_item
from erhuo.market.models import BuyerShow
from erhuo.market.services.shows import MODERATE_PERMISSION

router = Router(tags=["market: buyer shows"])


class ShowPhotoOut(Schema):
    url: str
    thumbnail_url: str
    width: int
    height: int


class ShowOut(Schema):
    id: int
    item_id: int
    item_title: str
    stars: int
    text: str
    buyer_name: str = Field(..., description="Masked: the first character only")
    photos: list[ShowPhotoOut]
    featured_at: datetime | None
    hidden: bool
    created_at: datetime


class FeatureIn(Schema):
    featured: bool = True


class HideIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


def _show(show: BuyerShow) -> dict:
    return {
        "id": show.pk,
        "item_id": show.item_id,
        "item_title": show.item.title,
        "stars": show.stars,
        "text": show.text,
        "buyer_name": mask_name(show.buyer.display_name or show.buyer.username),
        "photos": [
            {
                "url": photo.image.url,
                "thumbnail_url": photo.thumbnail.url if photo.thumbnail else photo.image.url,
                "width": photo.width,
                "height": photo.height,
            }
            for photo in show.photos.all()
        ],
        "featured_at": show.featured_at,
        "hidden": show.hidden,
        "created_at": show.created_at,
    }


def _show_of(show_id: int) -> BuyerShow:
    show = BuyerShow.objects.select_related("buyer", "item").prefetch_related("photos").filter(pk=show_id).first()
    if show is None:
        raise NotFound(_("Buyer show not found."), code="show_not_found")
    return show


@router.post(
    "/order-lines/{int:line_id}/show",
    response={201: ShowOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Post a buyer show (买家秀) for an item I received (multipart)",
)
def show_create(
    request,
    line_id: Id,
    stars: int = Form(..., ge=1, le=5),
    text: str = Form("", max_length=1000),
    photos: File[list[UploadedFile]] = None,
):
    """Once the order is delivered; up to 9 `photos`. 409 `not_delivered`, `show_exists`."""
    show = services.buyer_show_create(line_id=line_id, buyer=request.user, stars=stars, text=text, photos=photos or [])
    return Status(201, _show(_show_of(show.pk)))


@router.get(
    "/items/{int:item_id}/shows",
    auth=None,
    response={200: list[ShowOut], 404: ErrorOut},
    summary="Buyer shows of an item (public)",
)
def item_shows(request, item_id: Id, limit: int = Query(10, ge=1, le=50)):
    item = visible_item(request, item_id)
    return Status(200, [_show(show) for show in selectors.shows_for_item(item.pk, limit=limit)])


@router.get("/shows/featured", auth=None, response=list[ShowOut], summary="Featured buyer shows (public)")
def featured_shows(request, limit: int = Query(20, ge=1, le=50)):
    return [_show(show) for show in selectors.featured_shows(limit=limit)]


@router.post(
    "/shows/{int:show_id}/feature",
    response={200: ShowOut, **ERRORS},
    summary="Operators: feature a buyer show into the groups (or take it back)",
)
def show_feature(request, show_id: Id, payload: FeatureIn):
    """Needs `market.moderate_buyer_show` (403). 409 `show_hidden` for a hidden show."""
    require(request, MODERATE_PERMISSION)
    services.buyer_show_feature(show_id=show_id, actor=request.user, featured=payload.featured)
    return Status(200, _show(_show_of(show_id)))


@router.post(
    "/shows/{int:show_id}/hide",
    response={200: ShowOut, **ERRORS},
    summary="Operators: hide a buyer show, with the reason",
)
def show_hide(request, show_id: Id, payload: HideIn):
    """Needs `market.moderate_buyer_show` (403). A hidden show leaves every public list."""
    require(request, MODERATE_PERMISSION)
    services.buyer_show_hide(show_id=show_id, actor=request.user, reason=payload.reason)
    return Status(200, _show(_show_of(show_id)))
