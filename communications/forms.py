"""Forms of the communications settings: the organization's reminder days and copies, and one kind's wording."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mls.enums import Language
from mls.validators import validate_timezone

from .enums import LEARNER_KINDS


class CommunicationSettingsForm(forms.Form):
    reminder_offsets = forms.CharField(
        label=_("Reminder days"),
        help_text=_("Days before a session that enrolled learners are reminded, separated by commas, e.g. 7, 1."),
        required=False,
    )
    manager_copy_kinds = forms.MultipleChoiceField(
        label=_("Copy to the line manager"),
        help_text=_("These messages also go to the learner's line manager, when the learner has one recorded."),
        choices=[(kind.value, kind.label) for kind in LEARNER_KINDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def clean_reminder_offsets(self) -> list[int]:
        parts = [part.strip() for part in self.cleaned_data["reminder_offsets"].replace(";", ",").split(",")]
        try:
            return [int(part) for part in parts if part]
        except ValueError:
            raise ValidationError(_("Write whole numbers of days, separated by commas.")) from None


class MessageTemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=_("Body"),
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_("Plain text. Variables in double braces, e.g. {{ course_title }}, are filled in for each learner."),
    )


class LearnerPreferencesForm(forms.Form):
    """How a learner is written to: the language and zone of their emails, and whether the optional ones are sent."""

    language = forms.ChoiceField(label=_("Language of their emails"), choices=Language.choices)
    timezone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        validators=[validate_timezone],
        help_text=_("An IANA zone such as Europe/Berlin; blank: the session venue's, else the engagement's."),
    )
    optional_messages_opted_out = forms.BooleanField(
        label=_("No reminders, joining instructions or survey invitations"),
        required=False,
        help_text=_("Notices about the learner's own places (confirmation, change, cancellation) are always sent."),
    )
