"""Community pages: classes."""

urlpatterns = []
