from django.urls import path

from erhuo.accounts import views, views_privacy

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("me/", views.profile, name="profile"),
    path("me/edit/", views.profile_edit, name="profile_edit"),
    path("me/password/", views.password_change, name="password_change"),
    path("me/addresses/", views.address_list, name="addresses"),
    path("me/addresses/new/", views.address_edit, name="address_new"),
    path("me/addresses/<int:address_id>/", views.address_edit, name="address_edit"),
    path("me/addresses/<int:address_id>/delete/", views.address_delete, name="address_delete"),
    path("me/tokens/", views.token_list, name="tokens"),
    path("me/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("ops/members/", views.member_directory, name="member_directory"),
    path("ops/members/<int:user_id>/", views.member_detail, name="member_detail"),
]

# Personal data (operators): the logged "show in full", and the owner's access log.
urlpatterns += [
    path("ops/members/<int:user_id>/reveal/", views_privacy.member_reveal, name="member_reveal"),
    path("ops/personal-data-access/", views_privacy.personal_data_access_log, name="personal_data_access_log"),
]
