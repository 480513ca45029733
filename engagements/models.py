"""Models of the engagements app arrive with their issue; tenant models inherit mls.models.TenantModel."""
