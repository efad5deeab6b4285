from erhuo.payments import views

app_name = "payments"

urlpatterns = views.urlpatterns
