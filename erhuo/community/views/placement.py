"""Community pages: placement."""

urlpatterns = []
