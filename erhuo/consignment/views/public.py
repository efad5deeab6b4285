"""public pages of the consignment pipeline."""

urlpatterns = []
