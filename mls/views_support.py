"""One mechanism for every form post: validate, call the service, redirect — or show the errors with a 400."""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import apply_service_error


def write_or_rerender(
    form: forms.Form,
    write: Callable[[forms.Form], object],
    on_success: Callable[[], HttpResponse],
    rerender: Callable[[forms.Form], HttpResponse],
) -> HttpResponse:
    """A service's ValidationError lands on the form like a field error, so nothing is written and input is kept."""
    return write_then(form, write, lambda _written: on_success(), rerender)


def write_then(
    form: forms.Form,
    write: Callable[[forms.Form], object],
    then: Callable[[object], HttpResponse],
    rerender: Callable[[forms.Form], HttpResponse],
) -> HttpResponse:
    """`write_or_rerender` whose answer depends on what `write` returned (e.g. the object it created)."""
    if form.is_valid():
        try:
            written = write(form)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return then(written)
    return rerender(form)


def saved_redirect(request: HttpRequest, message: str, url: str) -> HttpResponse:
    """After a write: say what was saved on the next page, and go there."""
    messages.success(request, message)
    return redirect(url)


def write_and_say(
    request: HttpRequest,
    form: forms.Form,
    write: Callable[[forms.Form], object],
    *,
    saved: str | Callable[[object], str],
    url: str,
    rerender: Callable[[forms.Form], HttpResponse],
) -> HttpResponse:
    """`write_or_rerender` that goes to `url` saying what was saved: `saved`, or `saved(what write returned)`."""
    return write_then(
        form,
        write,
        lambda written: saved_redirect(request, saved(written) if callable(saved) else saved, url),
        rerender,
    )


def form_page(
    request: HttpRequest,
    form: forms.Form,
    write: Callable[[dict], object],
    *,
    title: str,
    cancel_url: str,
    saved: str,
    done_url: Callable[[object], str] | None = None,
    template: str = "mls/form.html",
    extra_context: dict | None = None,
) -> HttpResponse:
    """A page that is one form: GET shows it; POST writes through the service and redirects with the `saved`
    message (to `done_url(what write returned)`, else back to `cancel_url`), or shows the form again with its
    errors and the user's input (400). A `template` extending mls/form.html may add to the page."""

    def page(status: int = 200) -> HttpResponse:
        context = {"form": form, "title": title, "cancel_url": cancel_url, **(extra_context or {})}
        return render(request, template, context, status=status)

    if request.method != "POST":
        return page()
    return write_then(
        form,
        lambda valid: write(valid.cleaned_data),
        lambda written: saved_redirect(request, saved, done_url(written) if done_url else cancel_url),
        lambda invalid: page(400),
    )


def confirm_page(
    request: HttpRequest,
    act: Callable[[], object],
    *,
    title: str,
    body: str,
    action: str,
    cancel_url: str,
    done: str,
    done_url: str | None = None,
    error: str = "",
) -> HttpResponse:
    """A destructive or deciding action behind a confirmation: GET asks (mls/confirm.html); POST runs `act` and
    redirects with the `done` message (to `done_url`, else `cancel_url`), or asks again with the service's
    refusal (400) — nothing is written then."""
    context = {"title": title, "body": body, "action": action, "cancel_url": cancel_url, "error": error}
    if request.method != "POST":
        return render(request, "mls/confirm.html", context)
    try:
        act()
    except ValidationError as refusal:
        return render(request, "mls/confirm.html", {**context, "error": refusal.messages[0]}, status=400)
    messages.success(request, done)
    return redirect(done_url or cancel_url)
