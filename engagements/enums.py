"""Choices of the contracts domain (SPEC-SLA §6–7, seeds 001 and 003)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EngagementModel(models.TextChoices):
    PROJECT_BASED = "project_based", _("Project-based")
    STAFF_AUGMENTATION = "staff_augmentation", _("Staff augmentation")
    MANAGED_SERVICES = "managed_services", _("Managed services")
    HYBRID_COE = "hybrid_coe", _("Hybrid / centre of excellence")


class VendorModel(models.TextChoices):
    NEUTRAL_VENDOR = "neutral_vendor", _("Neutral vendor")
    MASTER_VENDOR = "master_vendor", _("Master vendor")
    MASTER_SERVICE_PROVIDER = "master_service_provider", _("Master service provider")


class EngagementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    IN_TRANSITION = "in_transition", _("In transition")
    ENDED = "ended", _("Ended")


class IpTerms(models.TextChoices):
    BESPOKE_CLIENT_OWNED = "bespoke_client_owned", _("Bespoke content client-owned (work for hire); library licensed")
    PROVIDER_OWNED_LICENSED = "provider_owned_licensed", _("All content provider-owned, licensed to the client")


class DataExportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    JSON = "json", _("JSON")
    CSV_AND_JSON = "csv_json", _("CSV and JSON")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    SUPERSEDED = "superseded", _("Superseded")


class StandardService(models.TextChoices):
    NEEDS_ANALYSIS = "needs_analysis", _("Needs analysis")
    CONTENT_DEVELOPMENT = "content_development", _("Content development")
    SCHEDULING = "scheduling", _("ILT/VILT scheduling")
    ENROLLMENT_MANAGEMENT = "enrollment_management", _("Enrollment management")
    VENDOR_SOURCING = "vendor_sourcing", _("Vendor sourcing")
    PLATFORM_ADMINISTRATION = "platform_administration", _("LMS/TMS administration")
    COMPLIANCE_TRACKING = "compliance_tracking", _("Compliance tracking")
    REPORTING_ANALYTICS = "reporting_analytics", _("Reporting & analytics")
    LEARNER_SUPPORT = "learner_support", _("Learner support")
    CUSTOM = "custom", _("Custom service")


class Responsibility(models.TextChoices):
    INCLUDED = "included", _("Included")
    EXCLUDED = "excluded", _("Excluded")
    CLIENT_RETAINED = "client_retained", _("Client retained")


class PricingModel(models.TextChoices):
    RETAINER = "retainer", _("Retainer")
    PER_LEARNER = "per_learner", _("Per learner (graduated volume bands)")
    HYBRID = "hybrid", _("Hybrid (retainer + per learner above included)")
    CONSUMPTION = "consumption", _("Consumption (unit prices)")
    OUTCOME_BASED = "outcome_based", _("Outcome-based (base fee + gain share)")


class LineBasis(models.TextChoices):
    FIXED = "fixed", _("Fixed monthly amount")
    PER_LEARNER = "per_learner", _("Per billable learner (graduated bands)")
    UNIT = "unit", _("Unit price × usage")
    GAIN_SHARE = "gain_share", _("Gain share on the base fee")


class UsageKey(models.TextChoices):
    DELIVERED_SESSION_HOURS = "delivered_session_hours", _("Delivered session hours")
    COMPLETIONS = "completions", _("Completions")
    ENROLLMENTS = "enrollments", _("Enrollments")


# Which line bases each pricing model is made of (validated before signing).
PRICING_MODEL_BASES: dict[str, frozenset[str]] = {
    PricingModel.RETAINER: frozenset({LineBasis.FIXED}),
    PricingModel.PER_LEARNER: frozenset({LineBasis.PER_LEARNER}),
    PricingModel.HYBRID: frozenset({LineBasis.FIXED, LineBasis.PER_LEARNER}),
    PricingModel.CONSUMPTION: frozenset({LineBasis.UNIT}),
    PricingModel.OUTCOME_BASED: frozenset({LineBasis.FIXED, LineBasis.GAIN_SHARE}),
}


class Side(models.TextChoices):
    CLIENT = "client", _("Client")
    PROVIDER = "provider", _("Provider")


class ChangeRequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED_BY_CLIENT = "approved_by_client", _("Approved by client")
    APPROVED_BY_PROVIDER = "approved_by_provider", _("Approved by provider")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Whose approval a change request still waits for: both sides approve, in either order (SPEC-SLA §7).
AWAITING_APPROVAL: dict[str, frozenset[str]] = {
    ChangeRequestStatus.SUBMITTED: frozenset({Side.CLIENT, Side.PROVIDER}),
    ChangeRequestStatus.APPROVED_BY_CLIENT: frozenset({Side.PROVIDER}),
    ChangeRequestStatus.APPROVED_BY_PROVIDER: frozenset({Side.CLIENT}),
}


class MeetingKind(models.TextChoices):
    MONTHLY_OPERATIONAL_REVIEW = "monthly_operational_review", _("Monthly operational review")
    QUARTERLY_BUSINESS_REVIEW = "quarterly_business_review", _("Quarterly business review")
    ANNUAL_STRATEGIC_REVIEW = "annual_strategic_review", _("Annual strategic review")
    PERFORMANCE_REVIEW = "performance_review", _("Performance review")


class DisputeTier(models.TextChoices):
    ACCOUNT_MANAGEMENT = "account_management", _("Account management")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
    MEDIATION = "mediation", _("Mediation")
    CLOSED = "closed", _("Closed")


# The dispute ladder of SPEC-SLA §7, in order.
DISPUTE_LADDER = [DisputeTier.ACCOUNT_MANAGEMENT, DisputeTier.EXECUTIVE_SPONSOR, DisputeTier.MEDIATION]


class OutcomeStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
