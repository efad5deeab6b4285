from erhuo.community.views import activities, classes, drops, groups, placement

app_name = "community"

urlpatterns = (
    groups.urlpatterns + placement.urlpatterns + drops.urlpatterns + classes.urlpatterns + activities.urlpatterns
)
