"""Community pages: groups."""

urlpatterns = []
