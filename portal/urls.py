from django.urls import path

from portal.views import citizen, public, staff

app_name = "portal"

urlpatterns = [
    path("", public.home, name="home"),
    path("me/", citizen.dashboard, name="dashboard"),
    path("me/setup/", citizen.profile_setup, name="profile_setup"),
    path("me/profile/", citizen.profile_edit, name="profile_edit"),
    path("me/proxies/<str:proxy_id>/revoke/", citizen.revoke_proxy, name="revoke_proxy"),
    path("people/<str:person_id>/", citizen.dependent_dashboard, name="dependent_dashboard"),
    path("staff/", staff.staff_home, name="staff_home"),
    path("staff/proxies/new/", staff.grant_proxy, name="staff_grant_proxy"),
    path("security/staff-mfa/", staff.staff_mfa_required, name="staff_mfa_required"),
]
