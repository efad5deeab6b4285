from django.urls import include, path

from erhuo.consignment.views import operator, public, seller

app_name = "consignment"

urlpatterns = [
    path("consign/", include(seller.urlpatterns)),
    path("ops/", include(operator.urlpatterns)),
    path("", include(public.urlpatterns)),
]
