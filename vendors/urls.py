from django.urls import path

from . import views

app_name = "vendors"

urlpatterns = [
    path("providers/", views.provider_list, name="providers"),
    path("providers/new/", views.provider_create, name="provider_create"),
    path("providers/<int:pk>/edit/", views.provider_edit, name="provider_edit"),
    path("providers/<int:pk>/invite/", views.provider_invite, name="provider_invite"),
    path("suppliers/", views.supplier_list, name="suppliers"),
    path("suppliers/new/", views.supplier_create, name="supplier_create"),
    path("suppliers/<int:pk>/edit/", views.supplier_edit, name="supplier_edit"),
    path("instructors/new/", views.instructor_create, name="instructor_create"),
    path("instructors/<int:pk>/", views.instructor_detail, name="instructor"),
    path("instructors/<int:pk>/qualifications/", views.qualification_add, name="qualification_add"),
    path("qualifications/<int:pk>/remove/", views.qualification_remove, name="qualification_remove"),
]
