"""One mechanism for every form post: validate, call the service, redirect — or show the errors with a 400."""

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from .forms import apply_service_error


def write_or_rerender(
    form: forms.Form,
    write: Callable[[forms.Form], object],
    on_success: Callable[[], HttpResponse],
    rerender: Callable[[forms.Form], HttpResponse],
) -> HttpResponse:
    """A service's ValidationError lands on the form like a field error, so nothing is written and input is kept."""
    if form.is_valid():
        try:
            write(form)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return on_success()
    return rerender(form)
