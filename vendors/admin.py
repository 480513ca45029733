from django.contrib import admin

from .models import Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "contact_email"]
    list_select_related = ["organization"]
    search_fields = ["name"]
