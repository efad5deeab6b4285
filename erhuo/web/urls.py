from django.urls import path

from erhuo.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sell/", views.seller_area, name="seller_area"),
    path("ops/", views.operator_console, name="operator_console"),
    path("guarantees/", views.guarantees, name="guarantees"),
    path("privacy/", views.privacy, name="privacy"),
    path("rules/", views.community_rules, name="rules"),
    path("favicon.ico", views.favicon),
]
