from django.contrib.auth.backends import ModelBackend

from erhuo.accounts.models import User, phone_digest
from erhuo.core.pii import is_valid_phone


class PhoneOrUsernameBackend(ModelBackend):
    """Log in with a mobile number or a username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        username = str(username).strip()
        if is_valid_phone(username):
            user = User.objects.filter(phone_digest=phone_digest(username)).first()
        else:
            user = User.objects.filter(username__iexact=username).first()
        if user is None:
            # Spend the same time as a real check, so response time does not tell who exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
