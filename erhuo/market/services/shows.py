"""Buyer shows (买家秀): after delivery the buyer rates what she bought, in words and photos.

A show appears on the item's page, the seller's page and, when the sale
was attributed to an expert, the expert's page. Its stars count in the
seller's record. An operator may hide one (with a reason) or feature it
into the groups as content.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from erhuo.core import events
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.images import clean_image, thumbnail
from erhuo.market.models import BuyerShow, BuyerShowPhoto, Order, OrderLine

MODERATE_PERMISSION = "market.moderate_buyer_show"
MAX_PHOTOS = 9
PHOTO_MAX_BYTES = 10 * 1024 * 1024


def buyer_show_create(*, line_id: int, buyer, stars, text: str = "", photos=()) -> BuyerShow:
    from erhuo.trust.services import record

    line = OrderLine.objects.select_related("order", "item").filter(pk=line_id, order__buyer=buyer).first()
    if line is None:
        raise NotFound(_("Order line not found."), code="line_not_found")
    errors = {}
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        errors["stars"] = [_("1 to 5 stars.")]
    text = (text or "").strip()
    if len(text) > 1000:
        errors["text"] = [_("At most 1000 characters.")]
    photos = [photo for photo in (photos or ()) if photo]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [_("At most %(count)s photos.") % {"count": MAX_PHOTOS}]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), code="show_invalid", fields=errors)
    if line.is_gift or line.order.status not in (Order.Status.DELIVERED, Order.Status.COMPLETED) or not line.active:
        raise Conflict(_("You can post a buyer show once your order is delivered."), code="not_delivered")
    images = [clean_image(photo, max_bytes=PHOTO_MAX_BYTES, field="photos") for photo in photos]
    written = []
    try:
        with transaction.atomic():
            show = BuyerShow.objects.create(
                line=line, buyer=buyer, item=line.item, seller_id=line.seller_id, stars=stars, text=text
            )
            for image in images:
                data = image.content.read()
                image.content.seek(0)
                photo = BuyerShowPhoto(show=show, width=image.width, height=image.height)
                name = get_random_string(16)
                photo.image.save(f"{name}.{image.format}", image.content, save=False)
                written.append((photo.image.storage, photo.image.name))
                photo.thumbnail.save(f"{name}.jpg", thumbnail(data, size=320), save=False)
                written.append((photo.thumbnail.storage, photo.thumbnail.name))
                photo.save()
            record.seller_record_add_rating(user=line.seller, stars=stars)
            events.emit("buyer_show_posted", show_id=show.pk, item_id=line.item_id, seller_id=line.seller_id)
    except IntegrityError:
        for storage, name in written:
            storage.delete(name)
        raise Conflict(_("You already posted a show for this item."), code="show_exists") from None
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    return show


def _moderator(actor) -> None:
    if actor is None or not actor.has_perm(MODERATE_PERMISSION):
        raise PermissionRefused(_("Only community operators moderate buyer shows."), code="moderate_denied")


def buyer_show_feature(*, show_id: int, actor, featured: bool = True) -> BuyerShow:
    """Feature a show into the groups as content (or take it back)."""
    _moderator(actor)
    show = BuyerShow.objects.filter(pk=show_id).first()
    if show is None:
        raise NotFound(_("Buyer show not found."), code="show_not_found")
    if featured and show.hidden:
        raise Conflict(_("A hidden show cannot be featured."), code="show_hidden")
    show.featured_at = timezone.now() if featured else None
    show.featured_by = actor if featured else None
    show.save(update_fields=["featured_at", "featured_by", "updated_at"])
    if featured:
        events.emit("buyer_show_featured", show_id=show.pk, item_id=show.item_id)
    return show


def buyer_show_hide(*, show_id: int, actor, reason: str) -> BuyerShow:
    _moderator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why it is hidden."), code="reason_required", fields={"reason": [_("Required.")]})
    show = BuyerShow.objects.filter(pk=show_id).first()
    if show is None:
        raise NotFound(_("Buyer show not found."), code="show_not_found")
    show.hidden, show.hidden_reason, show.featured_at, show.featured_by = True, reason[:200], None, None
    show.save(update_fields=["hidden", "hidden_reason", "featured_at", "featured_by", "updated_at"])
    return show
