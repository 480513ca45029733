"""Choices of the contracts domain (SPEC-SLA §6–7, seeds 001 and 003)."""

from django.db import models


class EngagementModel(models.TextChoices):
    PROJECT_BASED = "project_based", "Project-based"
    STAFF_AUGMENTATION = "staff_augmentation", "Staff augmentation"
    MANAGED_SERVICES = "managed_services", "Managed services"
    HYBRID_COE = "hybrid_coe", "Hybrid / centre of excellence"


class VendorModel(models.TextChoices):
    NEUTRAL_VENDOR = "neutral_vendor", "Neutral vendor"
    MASTER_VENDOR = "master_vendor", "Master vendor"
    MASTER_SERVICE_PROVIDER = "master_service_provider", "Master service provider"


class EngagementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    IN_TRANSITION = "in_transition", "In transition"
    ENDED = "ended", "Ended"


class IpTerms(models.TextChoices):
    BESPOKE_CLIENT_OWNED = "bespoke_client_owned", "Bespoke content client-owned (work for hire); library licensed"
    PROVIDER_OWNED_LICENSED = "provider_owned_licensed", "All content provider-owned, licensed to the client"


class DataExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSON = "json", "JSON"
    CSV_AND_JSON = "csv_json", "CSV and JSON"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    SUPERSEDED = "superseded", "Superseded"


class StandardService(models.TextChoices):
    NEEDS_ANALYSIS = "needs_analysis", "Needs analysis"
    CONTENT_DEVELOPMENT = "content_development", "Content development"
    SCHEDULING = "scheduling", "ILT/VILT scheduling"
    ENROLLMENT_MANAGEMENT = "enrollment_management", "Enrollment management"
    VENDOR_SOURCING = "vendor_sourcing", "Vendor sourcing"
    PLATFORM_ADMINISTRATION = "platform_administration", "LMS/TMS administration"
    COMPLIANCE_TRACKING = "compliance_tracking", "Compliance tracking"
    REPORTING_ANALYTICS = "reporting_analytics", "Reporting & analytics"
    LEARNER_SUPPORT = "learner_support", "Learner support"
    CUSTOM = "custom", "Custom service"


class Responsibility(models.TextChoices):
    INCLUDED = "included", "Included"
    EXCLUDED = "excluded", "Excluded"
    CLIENT_RETAINED = "client_retained", "Client retained"


class PricingModel(models.TextChoices):
    RETAINER = "retainer", "Retainer"
    PER_LEARNER = "per_learner", "Per learner (graduated volume bands)"
    HYBRID = "hybrid", "Hybrid (retainer + per learner above included)"
    CONSUMPTION = "consumption", "Consumption (unit prices)"
    OUTCOME_BASED = "outcome_based", "Outcome-based (base fee + gain share)"


class LineBasis(models.TextChoices):
    FIXED = "fixed", "Fixed monthly amount"
    PER_LEARNER = "per_learner", "Per billable learner (graduated bands)"
    UNIT = "unit", "Unit price × usage"
    GAIN_SHARE = "gain_share", "Gain share on the base fee"


class UsageKey(models.TextChoices):
    DELIVERED_SESSION_HOURS = "delivered_session_hours", "Delivered session hours"
    COMPLETIONS = "completions", "Completions"
    ENROLLMENTS = "enrollments", "Enrollments"


# Which line bases each pricing model is made of (validated before signing).
PRICING_MODEL_BASES: dict[str, frozenset[str]] = {
    PricingModel.RETAINER: frozenset({LineBasis.FIXED}),
    PricingModel.PER_LEARNER: frozenset({LineBasis.PER_LEARNER}),
    PricingModel.HYBRID: frozenset({LineBasis.FIXED, LineBasis.PER_LEARNER}),
    PricingModel.CONSUMPTION: frozenset({LineBasis.UNIT}),
    PricingModel.OUTCOME_BASED: frozenset({LineBasis.FIXED, LineBasis.GAIN_SHARE}),
}


class Side(models.TextChoices):
    CLIENT = "client", "Client"
    PROVIDER = "provider", "Provider"


class ChangeRequestStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED_BY_CLIENT = "approved_by_client", "Approved by client"
    APPROVED_BY_PROVIDER = "approved_by_provider", "Approved by provider"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Whose approval a change request still waits for: both sides approve, in either order (SPEC-SLA §7).
AWAITING_APPROVAL: dict[str, frozenset[str]] = {
    ChangeRequestStatus.SUBMITTED: frozenset({Side.CLIENT, Side.PROVIDER}),
    ChangeRequestStatus.APPROVED_BY_CLIENT: frozenset({Side.PROVIDER}),
    ChangeRequestStatus.APPROVED_BY_PROVIDER: frozenset({Side.CLIENT}),
}


class MeetingKind(models.TextChoices):
    MONTHLY_OPERATIONAL_REVIEW = "monthly_operational_review", "Monthly operational review"
    QUARTERLY_BUSINESS_REVIEW = "quarterly_business_review", "Quarterly business review"
    ANNUAL_STRATEGIC_REVIEW = "annual_strategic_review", "Annual strategic review"
    PERFORMANCE_REVIEW = "performance_review", "Performance review"


class DisputeTier(models.TextChoices):
    ACCOUNT_MANAGEMENT = "account_management", "Account management"
    EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"
    MEDIATION = "mediation", "Mediation"
    CLOSED = "closed", "Closed"


# The dispute ladder of SPEC-SLA §7, in order.
DISPUTE_LADDER = [DisputeTier.ACCOUNT_MANAGEMENT, DisputeTier.EXECUTIVE_SPONSOR, DisputeTier.MEDIATION]


class OutcomeStatus(models.TextChoices):
    SUBMITTED = "submitted", "Awaiting verification"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"
