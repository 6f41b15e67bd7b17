from django.contrib.auth.views import LogoutView
from django.urls import path

from agora.portal.views import account, shopper, staff

app_name = "portal"

urlpatterns = [
    # shopper shell and PWA
    path("", shopper.home, name="home"),
    path("directory/search/", shopper.directory_search, name="directory-search"),
    path("manifest.webmanifest", shopper.manifest, name="manifest"),
    path("sw.js", shopper.service_worker, name="service-worker"),
    path("floors/<int:floor_id>/", shopper.floor_view, name="floor"),
    # signing in and out
    path("login/", shopper.sms_login, name="login"),
    path("staff/login/", staff.StaffLoginView.as_view(), name="staff-login"),
    path("logout/", LogoutView.as_view(next_page="portal:home"), name="logout"),
    # my data and consents (PIPL)
    path("me/data/", account.my_data, name="my-data"),
    path("me/data/consent/", account.consent_toggle, name="my-data-consent"),
    path("me/data/export.json", account.data_export, name="my-data-export"),
    path("me/data/delete/", account.delete_account, name="my-data-delete"),
    # merchant onboarding (public)
    path("apply/", shopper.apply, name="apply"),
    path("apply/done/", shopper.apply_done, name="apply-done"),
    # consoles
    path("merchant/", staff.merchant_home, name="merchant-home"),
    path("merchant/shops/<int:shop_id>/", staff.merchant_shop_edit, name="merchant-shop-edit"),
    path("ops/", staff.ops_home, name="ops-home"),
    path("ops/directory/", staff.ops_directory, name="ops-directory"),
    path("ops/applications/", staff.ops_applications, name="ops-applications"),
    path(
        "ops/applications/<int:application_id>/approve/",
        staff.ops_application_approve,
        name="ops-application-approve",
    ),
    path(
        "ops/applications/<int:application_id>/reject/",
        staff.ops_application_reject,
        name="ops-application-reject",
    ),
    path("gov/", staff.gov_home, name="gov-home"),
]
