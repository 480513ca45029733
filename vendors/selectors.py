"""Reads of the vendors domain: supplier performance from the delivery data (one aggregate query)."""

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from mls.enums import Role
from mls.models import Invitation, Membership, Provider

from .models import Instructor, InstructorQualification, Supplier


def suppliers_for(membership: Membership) -> QuerySet[Supplier]:
    return membership.visible(Supplier.objects.all())


def instructors_for(membership: Membership) -> QuerySet[Instructor]:
    instructors = Instructor.objects.select_related("supplier", "provider").prefetch_related("qualifications")
    return membership.visible(instructors).order_by("name")


def qualifications_for(membership: Membership) -> QuerySet[InstructorQualification]:
    qualifications = InstructorQualification.objects.select_related("instructor__provider")
    return membership.visible(qualifications, provider="instructor__provider")


def providers_for(membership: Membership) -> QuerySet[Provider]:
    """The providers whose suppliers and instructors `membership` may maintain."""
    return membership.visible(Provider.objects.order_by("name"), provider="pk")


def provider_list(membership: Membership) -> QuerySet[Provider]:
    """The providers page: each provider with its engagement count, its account managers and their open
    invitations, in a constant number of queries."""
    return (
        providers_for(membership)
        .annotate(engagement_count=Count("engagements"))
        .prefetch_related(
            Prefetch(
                "membership_set",
                queryset=Membership.objects.filter(role=Role.PROVIDER_MANAGER)
                .select_related("user")
                .order_by("user__email"),
                to_attr="account_managers",
            ),
            Prefetch(
                "invitation_set",
                queryset=Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).order_by("email"),
                to_attr="open_invitations",
            ),
        )
    )


def supplier_performance(membership: Membership) -> QuerySet[Supplier]:
    """Per supplier: delivered sessions, sessions the provider cancelled, delivery rate inputs, mean rating.

    Sessions are attributed to a supplier through their instructors; `distinct` counts each session once.
    """
    session = "instructors__session_slots__session"
    return (
        suppliers_for(membership)
        .select_related("provider")
        .annotate(
            delivered=Count(session, filter=Q(**{f"{session}__status": "delivered"}), distinct=True),
            provider_cancelled=Count(
                session,
                filter=Q(**{f"{session}__status": "cancelled", f"{session}__cancelled_by": "provider"}),
                distinct=True,
            ),
            client_cancelled=Count(
                session,
                filter=Q(**{f"{session}__status": "cancelled", f"{session}__cancelled_by": "client"}),
                distinct=True,
            ),
            mean_instructor_rating=Avg(f"{session}__feedback__instructor_score"),
        )
        .order_by("name")
    )
