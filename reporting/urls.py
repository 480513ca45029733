from django.urls import path

from . import views, views_exports

app_name = "reporting"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("exports/", views_exports.exports, name="exports"),
    path("exports/csv/<slug:kind>/", views_exports.export_csv, name="export_csv"),
    path("exports/data/new/", views_exports.data_export_request, name="data_export_request"),
    path("exports/data/<int:pk>/", views_exports.data_export, name="data_export"),
    path("exports/data/<int:pk>/download/", views_exports.data_export_download, name="data_export_download"),
]
