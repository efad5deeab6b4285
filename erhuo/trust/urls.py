from django.urls import include, path

from erhuo.trust.views import deposits, public, verification

app_name = "trust"

urlpatterns = [
    path("", include(verification.urlpatterns)),
    path("", include(public.urlpatterns)),
    # --- deposits: the deposits helper adds its one line here ---
    path("", include(deposits.urlpatterns)),
]
