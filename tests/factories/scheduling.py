"""Factories for delivery data. Times are fixed and in UTC so tests read like a timetable."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from scheduling.enums import Modality
from scheduling.models import Course, Learner, Room, Venue
from vendors.models import Instructor


def at(day: int, hour: int, month: int = 3, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    code = factory.Sequence(lambda n: f"C{n:03}")
    title = factory.Sequence(lambda n: f"Course {n}")
    modality = Modality.ILT
    duration_hours = Decimal("3.00")


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    name = factory.Sequence(lambda n: f"Training centre {n}")
    timezone = "Europe/London"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    venue = factory.SubFactory(VenueFactory, organization=factory.SelfAttribute("..organization"))
    name = factory.Sequence(lambda n: f"Room {n}")
    capacity = 12


class InstructorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instructor

    name = factory.Sequence(lambda n: f"Instructor {n}")
    email = factory.Sequence(lambda n: f"instructor{n}@northwind.example")


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Learner

    name = factory.Sequence(lambda n: f"Learner {n}")
    email = factory.Sequence(lambda n: f"learner{n}@acme.example")


def hours_later(start: datetime, hours: int = 3) -> datetime:
    return start + timedelta(hours=hours)
