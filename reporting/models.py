"""Reporting stores nothing yet; QBR documents and exports arrive with their issue (mls.models.TenantModel)."""
