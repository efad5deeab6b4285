"""operator pages of the consignment pipeline."""

urlpatterns = []
