"""One ASGI process serves HTTP and WebSocket (uvicorn erhuo.asgi:application).

HTTP runs through Django's WSGI handler on ERHUO_HTTP_THREADS long-lived threads
(erhuo/core/http_pool.py, ADR 11); WebSocket through Channels.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erhuo.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from erhuo.routing import websocket_urlpatterns  # noqa: E402

if settings.ERHUO_HTTP_THREADS:
    # HTTP through Django's WSGI handler on a few long-lived threads (ADR 11).
    from django.core.wsgi import get_wsgi_application

    from erhuo.core.http_pool import PooledWsgiHttp

    http_app = PooledWsgiHttp(get_wsgi_application(), threads=settings.ERHUO_HTTP_THREADS)
else:
    http_app = django_asgi_app

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
