"""Community pages: drops."""

urlpatterns = []
