"""The operators' parking pages, the gate displays and the government's overview (include
with ``path("", include("agora.parking.urls_ops"))``)."""

from django.urls import URLPattern, path

from agora.parking.views import gate, gov, ops

urlpatterns: list[URLPattern] = [
    path("ops/parking/", ops.ops_home, name="parking-ops"),
    path("ops/parking/<int:car_park_id>/", ops.ops_live, name="parking-ops-live"),
    path(
        "ops/parking/<int:car_park_id>/reviews/<int:review_id>/match/",
        ops.ops_review_match,
        name="parking-ops-review-match",
    ),
    path(
        "ops/parking/<int:car_park_id>/reviews/<int:review_id>/dismiss/",
        ops.ops_review_dismiss,
        name="parking-ops-review-dismiss",
    ),
    path(
        "ops/parking/<int:car_park_id>/stays/<int:session_id>/void/",
        ops.ops_session_void,
        name="parking-ops-void",
    ),
    path("ops/parking/<int:car_park_id>/tariffs/", ops.ops_tariffs, name="parking-ops-tariffs"),
    path("ops/parking/<int:car_park_id>/paging/", ops.ops_paging, name="parking-ops-paging"),
    path(
        "ops/parking/<int:car_park_id>/analytics/",
        ops.ops_analytics,
        name="parking-ops-analytics",
    ),
    path(
        "ops/parking/<int:car_park_id>/analytics.csv",
        ops.ops_analytics_csv,
        name="parking-ops-analytics-csv",
    ),
    path(
        "parking/gate/<slug:car_park_code>/<slug:gate_code>/",
        gate.gate_display,
        name="parking-gate",
    ),
    path(
        "parking/gate/<slug:car_park_code>/<slug:gate_code>/last/",
        gate.gate_last,
        name="parking-gate-last",
    ),
    path("gov/parking/", gov.gov_parking, name="parking-gov"),
]
