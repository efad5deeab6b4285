"""WebSocket routes of every app, assembled like the API."""

from django.urls import path

from erhuo.web.consumers import MeConsumer

websocket_urlpatterns = [
    path("ws/me/", MeConsumer.as_asgi()),
]
