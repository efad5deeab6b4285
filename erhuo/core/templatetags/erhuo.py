from django import template

from erhuo.core import pii
from erhuo.core.money import format_fen

register = template.Library()


@register.filter
def fen(value):
    """`{{ item.price_fen|fen }}` → `¥1,234.50`."""
    if value in (None, ""):
        return ""
    return format_fen(int(value))


@register.filter
def masked_phone(value):
    return pii.mask_phone(value)


@register.filter
def masked_id(value):
    return pii.mask_id_number(value)


@register.filter
def masked_name(value):
    return pii.mask_name(value)


@register.filter
def masked_address(value):
    return pii.mask_address(value)


@register.filter
def get_item(mapping, key):
    """`{{ labels|get_item:code }}`: look up a key in a dict."""
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key


@register.simple_tag(takes_context=True)
def slot(context, name, **kwargs):
    """`{% slot "item_public_actions" item=item %}`: what higher apps put in this place (see core.slots)."""
    from erhuo.core import slots

    return slots.render(name, context.get("request"), **kwargs)
