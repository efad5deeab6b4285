import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from erhuo.core import pii


@pytest.mark.parametrize(
    ("value", "masked"),
    [("13812345678", "138****5678"), ("+86 138-1234-5678", "138****5678"), ("", ""), (None, "")],
)
def test_mask_phone(value, masked):
    assert pii.mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("110101199003071234", "1101**********1234"), ("11010119900307123X", "1101**********123X"), ("1234", "****")],
)
def test_mask_id_number(value, masked):
    assert pii.mask_id_number(value) == masked


def test_mask_name_and_address():
    assert pii.mask_name("王小明") == "王**"
    assert pii.mask_address("上海市徐汇区漕溪北路88号") == "上海市徐汇区****"
    assert pii.mask_address("上海") == "上海"


@pytest.mark.parametrize(
    ("value", "valid"),
    [("13812345678", True), ("+8613812345678", True), ("12812345678", False), ("1381234567", False), ("abc", False)],
)
def test_phone_validation(value, valid):
    assert pii.is_valid_phone(value) is valid


def test_encrypt_round_trip_and_ciphertext_hides_value():
    token = pii.encrypt("上海市徐汇区漕溪北路88号")
    assert "漕溪" not in token
    assert pii.decrypt(token) == "上海市徐汇区漕溪北路88号"


def test_key_rotation_old_tokens_still_read_and_reencrypt_under_new_key(settings):
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.ERHUO_PII_KEY = old_key
    token = pii.encrypt("13812345678")
    settings.ERHUO_PII_KEY = f"{new_key},{old_key}"
    assert pii.decrypt(token) == "13812345678"
    rotated = pii.reencrypt(token)
    settings.ERHUO_PII_KEY = new_key
    assert pii.decrypt(rotated) == "13812345678"
    with pytest.raises(ImproperlyConfigured):
        pii.decrypt(token)


def test_blind_index_is_stable_across_rotation_and_keyed(settings):
    old_key = Fernet.generate_key().decode()
    settings.ERHUO_PII_KEY = old_key
    digest = pii.pii_digest("phone:13812345678")
    settings.ERHUO_PII_KEY = f"{Fernet.generate_key().decode()},{old_key}"
    assert pii.pii_digest("phone:13812345678") == digest
    settings.ERHUO_PII_KEY = Fernet.generate_key().decode()
    assert pii.pii_digest("phone:13812345678") != digest


def test_bad_key_is_a_clear_configuration_error(settings):
    settings.ERHUO_PII_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        pii.encrypt("x")


def test_missing_key_in_production_is_refused(settings):
    settings.ERHUO_PII_KEY = ""
    settings.DEBUG = False
    settings.TESTING = False
    with pytest.raises(ImproperlyConfigured, match="ERHUO_PII_KEY"):
        pii.encrypt("x")
