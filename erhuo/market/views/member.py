"""member pages of the market."""

urlpatterns = []
