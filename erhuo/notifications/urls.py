"""The notification centre, included at the site's root (erhuo/urls.py) with the namespace "notifications"."""

from django.urls import path

from erhuo.notifications import views

app_name = "notifications"

urlpatterns = [
    path("notices/", views.notice_list, name="list"),
    path("notices/read-all/", views.notice_read_all, name="read_all"),
    path("notices/<int:notice_id>/read/", views.notice_read, name="read"),
]
