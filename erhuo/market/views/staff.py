"""staff pages of the market."""

urlpatterns = []
