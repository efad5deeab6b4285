from erhuo.ledger import views

app_name = "ledger"

urlpatterns = views.urlpatterns
