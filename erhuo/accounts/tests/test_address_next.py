"""The address form returns to where she came from (checkout), and only to a path on this site."""

import pytest
from django.urls import reverse

from erhuo.accounts.models import Address

pytestmark = pytest.mark.django_db

FIELDS = {
    "label": "家",
    "recipient_name": "陈美玲",
    "recipient_phone": "13877770202",
    "province": "上海市",
    "city": "上海市",
    "district": "静安区",
    "detail": "南京西路 1266 号 2 栋 1803",
}


def test_saving_an_address_goes_back_to_the_page_it_came_from(client, member):
    client.force_login(member)
    url = reverse("accounts:address_new") + "?next=/checkout/%3Fclaim%3D7"

    page = client.get(url)
    assert '<input type="hidden" name="next" value="/checkout/?claim=7">' in page.content.decode()
    response = client.post(url, {**FIELDS, "next": "/checkout/?claim=7"})

    assert (response.status_code, response["Location"]) == (302, "/checkout/?claim=7")
    assert Address.objects.filter(user=member).count() == 1


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "checkout"])
def test_a_next_off_this_site_is_ignored(client, member, target):
    client.force_login(member)

    response = client.post(reverse("accounts:address_new"), {**FIELDS, "next": target})

    assert (response.status_code, response["Location"]) == (302, reverse("accounts:addresses"))
