"""The experts pages, included at the site's root (erhuo/urls.py).

The fixed paths under experts/ come before experts/<username>/, so a page
like /experts/standards/ is never taken for an expert's profile.
"""

from django.urls import path

from erhuo.experts import views

app_name = "experts"

urlpatterns = [
    path("experts/", views.directory, name="directory"),
    path("experts/standards/", views.standards, name="standards"),
    path("experts/apply/", views.apply, name="apply"),
    path("experts/apply/<int:application_id>/withdraw/", views.withdraw, name="withdraw"),
    path("experts/me/", views.dashboard, name="dashboard"),
    path("experts/me/profile/", views.profile_update, name="profile_update"),
    path("experts/<str:username>/", views.profile, name="profile"),
    path("r/<str:code>/", views.referral, name="referral"),
    path("ops/experts/", views.ops_experts, name="ops_experts"),
    path("ops/experts/<int:expert_id>/level/", views.ops_expert_level, name="ops_expert_level"),
    path("ops/experts/<int:expert_id>/status/", views.ops_expert_status, name="ops_expert_status"),
    path("ops/experts/applications/", views.ops_applications, name="ops_applications"),
    path("ops/experts/applications/<int:application_id>/", views.ops_application, name="ops_application"),
]
