"""Models of the scheduling app arrive with their issue; tenant models inherit mls.models.TenantModel."""
