"""Models of the slas app arrive with their issue; tenant models inherit mls.models.TenantModel."""
