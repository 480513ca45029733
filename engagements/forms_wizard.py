"""The steps of the new-engagement wizard: plain forms, each validating its own step; the service writes.

Steps 2 and 3 are built from the template chosen in step 1 (its service lines, its SLA targets), so their fields
are known only then. Each step's input is kept (signed) by the view and every step is validated again before the
one write, so nothing typed earlier is trusted blindly.
"""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mls.models import Provider
from mls.validators import validate_currency, validate_sane_date
from slas.catalog import METRICS, Kind

from . import pricing
from .enums import LineBasis
from .forms import DATE, parse_bands
from .services.templates import (
    ChosenTemplate,
    available_templates,
    chosen_template,
    default_end_date,
    default_monthly_amount,
)
from .template_content import LineSpec, TargetSpec

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class BasicsForm(forms.Form):
    """Step 1: which template, which provider, what it is called and when it runs."""

    template = forms.ChoiceField(
        widget=forms.RadioSelect,
        label=_("Template"),
        help_text=_(
            "It fills in the scope, pricing, SLA targets and meetings; you change any of it in the next steps or later "
            "on the engagement's pages."
        ),
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(),
        label=_("Provider"),
        help_text=_("The training provider you contract with. Not in the list? Add it under Providers first."),
    )
    name = forms.CharField(
        max_length=200,
        required=False,
        label=_("Engagement name"),
        help_text=_("Empty: the template's name and the provider's, e.g. “Training delivery – Northwind”."),
    )
    start_date = forms.DateField(
        widget=DATE,
        validators=[validate_sane_date],
        label=_("Start date"),
        help_text=_("The first day the contract is in force."),
    )
    end_date = forms.DateField(
        widget=DATE,
        required=False,
        validators=[validate_sane_date],
        label=_("Renewal date"),
        help_text=_("Empty: the end of the template's usual term (three years)."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.templates = available_templates()
        self.fields["template"].choices = [(t.choice, t.name) for t in self.templates]
        self.fields["template"].initial = self.templates[0].choice
        self.descriptions = {t.choice: t.content.description for t in self.templates}
        providers = Provider.objects.order_by("name")
        self.fields["provider"].queryset = providers
        if len(providers) == 1:
            self.fields["provider"].initial = providers[0].pk

    def clean(self) -> dict:
        cleaned = super().clean()
        template, provider, start = cleaned.get("template"), cleaned.get("provider"), cleaned.get("start_date")
        if template:
            cleaned["chosen"] = chosen_template(template)
        if template and provider and not cleaned.get("name"):
            short = cleaned["chosen"].content.sow_title
            cleaned["name"] = f"{short} – {provider.name}"
        if template and start and not cleaned.get("end_date"):
            cleaned["end_date"] = default_end_date(start, cleaned["chosen"].content)
        if start and cleaned.get("end_date") and cleaned["end_date"] <= start:
            self.add_error("end_date", gettext("The renewal date must be after the start date."))
        return cleaned


class MoneyForm(forms.Form):
    """Step 2: the contract's value and the template's prices."""

    annual_value = forms.DecimalField(
        **MONEY, label=_("Annual contract value"), help_text=_("What the contract is worth per year, as signed.")
    )
    annual_budget = forms.DecimalField(
        **MONEY,
        required=False,
        label=_("Your annual budget"),
        help_text=_("Optional: your own budget line for it; spend is reported against it (else the contract value)."),
    )
    currency = forms.CharField(
        max_length=3, validators=[validate_currency], label=_("Currency"), help_text=_("ISO code, e.g. GBP, EUR.")
    )
    forecast_learners = forms.IntegerField(
        min_value=0, label=_("Forecast learners per month"), help_text=_("Billable learners you expect each month.")
    )

    def __init__(self, *args: object, template: ChosenTemplate, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.template_lines = template.content.lines
        self.fields["forecast_learners"].initial = template.content.forecast_learners
        for index, line in enumerate(self.template_lines):
            if line.basis == LineBasis.FIXED:
                self.fields[f"line{index}_amount"] = forms.DecimalField(
                    **MONEY,
                    required=False,
                    label=gettext("%(line)s: monthly fee") % {"line": line.name},
                    help_text=gettext("Empty: a twelfth of the annual contract value.")
                    if [other for other in self.template_lines if other.basis == LineBasis.FIXED] == [line]
                    else gettext("Empty: %(amount)s.") % {"amount": line.amount},
                )
            elif line.basis == LineBasis.PER_LEARNER:
                self.fields[f"line{index}_bands"] = forms.CharField(
                    widget=forms.Textarea(attrs={"rows": 4}),
                    label=gettext("%(line)s: price per learner by volume") % {"line": line.name},
                    initial="\n".join(f"{'*' if up_to is None else up_to}: {rate}" for up_to, rate in line.bands),
                    help_text=gettext(
                        "One band per line, “learners up to: price”; the last one “*: price” for every learner above. "
                        "E.g. 200: 28.00 means the first 200 learners of the month cost 28.00 each."
                    ),
                )
                if line.included_learners:
                    self.fields[f"line{index}_included"] = forms.IntegerField(
                        min_value=0,
                        initial=line.included_learners,
                        label=gettext("%(line)s: learners included in the fixed fee") % {"line": line.name},
                    )
            elif line.basis == LineBasis.UNIT:
                self.fields[f"line{index}_unit_price"] = forms.DecimalField(
                    **MONEY, initial=line.unit_price, label=gettext("%(line)s: unit price") % {"line": line.name}
                )

    def clean(self) -> dict:
        cleaned = super().clean()
        lines = []
        for index, line in enumerate(self.template_lines):
            if line.basis == LineBasis.FIXED:
                amount = cleaned.get(f"line{index}_amount")
                if amount is None:
                    amount = default_monthly_amount(line, cleaned.get("annual_value"), self.template_lines)
                line = LineSpec(line.name, line.basis, amount=amount)
            elif line.basis == LineBasis.PER_LEARNER:
                try:
                    bands = tuple(parse_bands(cleaned.get(f"line{index}_bands") or ""))
                    pricing.validate_bands(tuple(pricing.Band(up_to, rate) for up_to, rate in bands))
                except (forms.ValidationError, ValueError) as error:
                    self.add_error(
                        f"line{index}_bands", error if isinstance(error, forms.ValidationError) else str(error)
                    )
                    continue
                included = cleaned.get(f"line{index}_included", line.included_learners) or 0
                line = LineSpec(line.name, line.basis, included_learners=included, bands=bands)
            elif line.basis == LineBasis.UNIT:
                unit_price = cleaned.get(f"line{index}_unit_price", line.unit_price)
                line = LineSpec(line.name, line.basis, unit_price=unit_price, usage_key=line.usage_key)
            lines.append(line)
        cleaned["lines"] = tuple(lines)
        return cleaned


class TargetsForm(forms.Form):
    """Step 3: the template's SLA targets, each kept or dropped and editable, and the fee at risk."""

    at_risk_percent = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        label=_("Share of the monthly fee at risk"),
        help_text=_("Percent of each month's fee that service credits can take back (typically 5–15 %)."),
    )

    def __init__(self, *args: object, template: ChosenTemplate, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.template_targets = template.content.targets
        self.fields["at_risk_percent"].initial = template.content.at_risk_percent
        for index, spec in enumerate(self.template_targets):
            metric = METRICS[spec.metric]
            scale = gettext("score 1–5") if metric.kind == Kind.MEAN else "%"
            self.fields[f"t{index}_include"] = forms.BooleanField(
                required=False, initial=True, label=gettext("Measure %(metric)s") % {"metric": metric.name_in_sentence}
            )
            self.fields[f"t{index}_target"] = forms.DecimalField(
                max_digits=7,
                decimal_places=2,
                initial=spec.target,
                label=gettext("%(metric)s: target (%(scale)s)") % {"metric": metric.name, "scale": scale},
            )
            if metric.threshold_unit:
                self.fields[f"t{index}_threshold"] = forms.IntegerField(
                    min_value=1,
                    required=spec.metric != "change_request_response",
                    initial=spec.threshold or metric.default_threshold,
                    label=gettext("%(metric)s: within (%(unit)s)")
                    % {"metric": metric.name, "unit": metric.threshold_unit_label},
                )
            self.fields[f"t{index}_allocation"] = forms.DecimalField(
                max_digits=5,
                decimal_places=2,
                min_value=Decimal("0.01"),
                max_value=Decimal("100"),
                initial=spec.allocation_percent,
                label=gettext("%(metric)s: share of the at-risk amount (%%)") % {"metric": metric.name},
            )

    def rows(self) -> list[dict]:
        """One table row per template target: the metric and its bound fields (None where it has no threshold)."""
        return [
            {
                "metric": METRICS[spec.metric],
                "include": self[f"t{index}_include"],
                "target": self[f"t{index}_target"],
                "threshold": self[f"t{index}_threshold"] if f"t{index}_threshold" in self.fields else None,
                "allocation": self[f"t{index}_allocation"],
            }
            for index, spec in enumerate(self.template_targets)
        ]

    def allocation_total(self) -> Decimal:
        """The kept targets' allocations added up, from what the user typed (or the template's)."""
        total = Decimal("0")
        for index in range(len(self.template_targets)):
            include = self[f"t{index}_include"].value()
            raw = self[f"t{index}_allocation"].value()
            try:
                total += Decimal(str(raw)) if include and raw not in (None, "") else 0
            except ArithmeticError:
                continue
        return total if self.is_bound else sum((t.allocation_percent for t in self.template_targets), Decimal("0"))

    def clean(self) -> dict:
        cleaned = super().clean()
        targets = []
        for index, spec in enumerate(self.template_targets):
            if not cleaned.get(f"t{index}_include"):
                continue
            metric = METRICS[spec.metric]
            target = cleaned.get(f"t{index}_target")
            low, high = metric.value_range
            if target is not None and not low <= target <= high:
                message = gettext("Between %(low)s and %(high)s for %(metric)s.")
                self.add_error(
                    f"t{index}_target", message % {"low": low, "high": high, "metric": metric.name_in_sentence}
                )
                continue
            if target is None or cleaned.get(f"t{index}_allocation") is None:
                continue
            threshold = cleaned.get(f"t{index}_threshold")
            targets.append(TargetSpec(spec.metric, target, cleaned[f"t{index}_allocation"], threshold))
        if not targets and not self.errors:
            self.add_error(None, gettext("Keep at least one SLA target: an engagement without one measures nothing."))
        cleaned["targets"] = tuple(targets)
        return cleaned
