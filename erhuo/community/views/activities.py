"""Community pages: activities."""

urlpatterns = []
