from erhuo.market.views import member, seller, staff

app_name = "market"

urlpatterns = member.urlpatterns + seller.urlpatterns + staff.urlpatterns
