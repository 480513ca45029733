from django.urls import path

from . import views, views_exports, views_qbr, views_statements

app_name = "reporting"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("engagements/<int:pk>/dashboard/", views.engagement_dashboard, name="engagement"),
    path("qbrs/", views_qbr.qbr_list, name="qbrs"),
    path("qbrs/<int:pk>/row/", views_qbr.qbr_row, name="qbr_row"),
    path("qbrs/<int:pk>/download/", views_qbr.qbr_download, name="qbr_download"),
    path("qbrs/<int:pk>/regenerate/", views_qbr.qbr_regenerate, name="qbr_regenerate"),
    path("engagements/<int:pk>/qbr-draft/", views_qbr.qbr_draft, name="qbr_draft"),
    path("statements/", views_statements.statement_list, name="statements"),
    path("sows/<int:pk>/statements/<str:month>/", views_statements.statement_detail, name="statement"),
    path("sows/<int:pk>/statements/<str:month>/pdf/", views_statements.statement_pdf, name="statement_pdf"),
    path("sows/<int:pk>/statements/<str:month>/csv/", views_statements.statement_csv, name="statement_csv"),
    path("exports/", views_exports.exports, name="exports"),
    path("exports/csv/<slug:kind>/", views_exports.export_csv, name="export_csv"),
    path("exports/data/new/", views_exports.data_export_request, name="data_export_request"),
    path("exports/data/<int:pk>/", views_exports.data_export, name="data_export"),
    path("exports/data/<int:pk>/download/", views_exports.data_export_download, name="data_export_download"),
]
