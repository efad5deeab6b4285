from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=False)
def check_pii_key(app_configs=None, **kwargs):
    from erhuo.core.pii import validate_pii_keys

    if not settings.ERHUO_PII_KEY and not settings.DEBUG:
        return [Error("ERHUO_PII_KEY is not set.", id="erhuo.E001")]
    try:
        validate_pii_keys()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="erhuo.E002")]
    return []
