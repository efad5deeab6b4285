import factory
from django.contrib.auth.models import Group

from erhuo.accounts.models import Address, User

DEFAULT_PASSWORD = "Erhuo-test-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n:04d}")
    display_name = factory.Sequence(lambda n: f"小林{n}")
    city = "上海"
    phone = factory.Sequence(lambda n: f"139{n:08d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        phone = kwargs.pop("phone")
        password = kwargs.pop("password", DEFAULT_PASSWORD)
        user = model_class(**kwargs)
        user.set_phone(phone)
        user.set_password(password)
        user.save()
        return user

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        from erhuo.accounts.services import _sync_staff_flag

        for code in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=code)[0])
        if extracted:
            _sync_staff_flag(self)


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    label = "家"
    recipient_name = "林小雨"
    recipient_phone = "13912345678"
    province = "上海市"
    city = "上海市"
    district = "徐汇区"
    detail = "漕溪北路 88 号 3 栋 1201"
    postal_code = "200030"
    is_default = True
