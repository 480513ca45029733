from django.urls import path

from . import views

app_name = "vendors"

urlpatterns = [
    path("suppliers/", views.supplier_list, name="suppliers"),
]
