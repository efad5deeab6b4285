"""seller pages of the consignment pipeline."""

urlpatterns = []
