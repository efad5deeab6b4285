"""seller pages of the market."""

urlpatterns = []
