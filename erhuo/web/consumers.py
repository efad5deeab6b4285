from channels.generic.websocket import AsyncJsonWebsocketConsumer

from erhuo.core.realtime import user_group


class MeConsumer(AsyncJsonWebsocketConsumer):
    """A signed-in person's own channel: server pushes for their open pages.

    Messages are `{"event": <past-tense name>, "payload": {...}}`. Anonymous
    connections are refused.
    """

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.group_name = user_group(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send_json({"event": "connected", "payload": {"user_id": user.pk}})

    async def disconnect(self, code):
        if getattr(self, "group_name", None):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # Clients only listen here; a ping keeps proxies from closing the socket.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"event": "pong", "payload": {}})

    async def push(self, message):
        await self.send_json({"event": message["event"], "payload": message.get("payload", {})})
