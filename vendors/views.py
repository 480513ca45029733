"""Supplier pages: who the provider sub-contracts, and how they perform on the client's delivery data."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from . import selectors


def supplier_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    context = {
        "suppliers": selectors.supplier_performance(request.membership),
        "instructors": selectors.instructors_for(request.membership),
        "today": timezone.localdate(),
    }
    return render(request, "vendors/supplier_list.html", context)
