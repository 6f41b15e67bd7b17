"""Forms of the shopper's payment pages and of the operator's payments console: the shape of
what is posted only. The business rules (which coupons stack, how many points, what a valid
taxpayer id is) are the checkout services'."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.checkout.choices import Method, TitleKind

#: what a shopper may pay with on their phone (cash and card are taken at the till)
SHOPPER_METHODS = (Method.WECHAT, Method.ALIPAY, Method.UNIONPAY, Method.ECNY)
MAX_POINTS = 100_000_000
MAX_SETTLEMENT_DAYS = 92


class PageForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PayForm(PageForm):
    """The pay page: the coupons (at most one of the mall's and one of the shop's), the
    points, the method, and the fresh key of this rendering of the form."""

    key = forms.UUIDField(required=False, widget=forms.HiddenInput())
    mall_coupon = forms.IntegerField(required=False, min_value=1)
    shop_coupon = forms.IntegerField(required=False, min_value=1)
    points = forms.IntegerField(required=False, min_value=0, max_value=MAX_POINTS)
    points_slider = forms.IntegerField(required=False, min_value=0, max_value=MAX_POINTS)
    method = forms.ChoiceField(
        required=False, choices=[(m.value, m.label) for m in SHOPPER_METHODS]
    )
    payable = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput())

    def coupon_ids(self) -> list[int]:
        data = self.cleaned_data
        return [i for i in (data.get("mall_coupon"), data.get("shop_coupon")) if i]

    def points_wanted(self, trigger: str) -> int:
        """The points asked for: the slider's when the slider was moved, else the field's."""
        data = self.cleaned_data
        if trigger == "points_slider" and data.get("points_slider") is not None:
            return int(data["points_slider"])
        return int(data.get("points") or 0)


class InvoiceForm(PageForm):
    title_kind = forms.ChoiceField(
        label=_("Title type"),
        choices=[
            (TitleKind.PERSONAL.value, _("Individual")),
            (TitleKind.COMPANY.value, _("Company")),
        ],
        widget=forms.RadioSelect,
        initial=TitleKind.PERSONAL.value,
    )
    title = forms.CharField(
        label=_("Invoice title"),
        max_length=100,
        help_text=_("Your name, or the company's full name."),
    )
    taxpayer_id = forms.CharField(
        label=_("Taxpayer ID"),
        max_length=20,
        required=False,
        help_text=_("The 18-character unified social credit code; required for a company."),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        help_text=_("We send the PDF there as well."),
    )


class SettlementForm(PageForm):
    """A mall (or one of its shops) and a range of days."""

    mall = forms.TypedChoiceField(label=_("Mall"), coerce=int, choices=())
    shop = forms.TypedChoiceField(
        label=_("Shop"), coerce=int, required=False, empty_value=None, choices=()
    )
    day_from = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    day_to = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, malls: list[Any], shops: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mall"].choices = [(m.pk, m.name) for m in malls]  # type: ignore[attr-defined]
        self.fields["shop"].choices = [  # type: ignore[attr-defined]
            ("", _("All shops of the mall")),
            *((s.pk, s.name) for s in shops),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("day_from"), data.get("day_to")
        if isinstance(start, date) and isinstance(end, date):
            if end < start:
                self.add_error("day_to", _("The last day must be on or after the first."))
            elif end - start > timedelta(days=MAX_SETTLEMENT_DAYS):
                self.add_error(
                    "day_to",
                    _("At most %(days)s days at a time.") % {"days": MAX_SETTLEMENT_DAYS},
                )
        return data


def settlement_initial(mall_id: int) -> dict[str, Any]:
    today = timezone.localdate()
    return {"mall": mall_id, "day_from": today - timedelta(days=6), "day_to": today}


class ReconcileForm(PageForm):
    provider = forms.ChoiceField(label=_("Provider"), choices=())
    day = forms.DateField(
        label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, providers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(p, p) for p in providers]  # type: ignore[attr-defined]

    def clean_day(self) -> date:
        day: date = self.cleaned_data["day"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("Not a day in the future."))
        return day
