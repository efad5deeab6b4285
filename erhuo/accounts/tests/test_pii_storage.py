"""Personal data at rest, through the accounts models that hold it."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from erhuo.accounts.models import Address, User
from erhuo.accounts.tests.factories import AddressFactory, UserFactory


@pytest.mark.django_db
def test_encrypted_field_stores_ciphertext(member):
    address = AddressFactory(user=member, detail="漕溪北路 88 号")
    with connection.cursor() as cursor:
        cursor.execute("SELECT detail, recipient_phone FROM accounts_address WHERE id = %s", [address.pk])
        raw_detail, raw_phone = cursor.fetchone()
    assert "漕溪" not in raw_detail
    assert "13912345678" not in raw_phone
    assert type(address).objects.get(pk=address.pk).detail == "漕溪北路 88 号"


@pytest.mark.django_db
def test_encrypted_field_refuses_searching():
    with pytest.raises(TypeError, match="cannot be queried"):
        list(Address.objects.filter(detail__icontains="漕溪"))


@pytest.mark.django_db
def test_pii_reencrypt_command_moves_rows_to_the_new_key(settings):
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.ERHUO_PII_KEY = old_key
    user = UserFactory(phone="13700001111")
    AddressFactory(user=user, detail="长乐路 1 号")

    settings.ERHUO_PII_KEY = f"{new_key},{old_key}"
    output = io.StringIO()
    call_command("pii_reencrypt", stdout=output)
    assert "accounts.Address: 1 rows re-encrypted" in output.getvalue()

    settings.ERHUO_PII_KEY = new_key
    assert User.objects.get(pk=user.pk).phone == "13700001111"
    assert Address.objects.get(user=user).detail == "长乐路 1 号"
