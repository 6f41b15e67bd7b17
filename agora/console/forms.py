"""Forms of the till and the loyalty console: shape and required fields only; the business
rules (ranges, limits, who may do what) are the services'."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agora.coupons.choices import Channel, CouponKind
from agora.district.choices import ShopCategory
from agora.lib.money import yuan_to_fen

MAX_YUAN_FEN = 100_000_000


def new_op() -> str:
    """A fresh operation id: the idempotency key of the next points movement of a form."""
    return uuid.uuid4().hex


class ConsoleForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class YuanField(forms.CharField):
    """An amount typed in yuan ("30", "12.5"); cleaned to integer fen."""

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        kwargs.setdefault("max_length", 14)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if text in (None, ""):
            return None
        try:
            fen = yuan_to_fen(str(text).replace("¥", "").replace(",", "").strip())
        except ValueError:
            raise forms.ValidationError(_("Enter an amount in yuan, like 30 or 12.50.")) from None
        if fen < 0 or (fen == 0 and not self.allow_zero) or fen > MAX_YUAN_FEN:
            raise forms.ValidationError(_("Enter an amount between ¥0.01 and ¥1,000,000."))
        return fen


class OpField(forms.CharField):
    """The hidden operation id (a UUID in hex) that makes a retried submit a replay."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=32, max_length=32, widget=forms.HiddenInput(), **kwargs)


# --- the till ----------------------------------------------------------------------------
class IdentifyForm(ConsoleForm):
    code = forms.CharField(
        label=_("Member code or card number"),
        max_length=80,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EarnForm(ConsoleForm):
    ticket = forms.CharField(widget=forms.HiddenInput(), max_length=400)
    op = OpField()
    amount = YuanField(label=_("Amount paid (yuan)"))
    reference = forms.CharField(label=_("Receipt number"), max_length=64, required=False)


class SpendForm(ConsoleForm):
    ticket = forms.CharField(widget=forms.HiddenInput(), max_length=400)
    op = OpField()
    points = forms.IntegerField(label=_("Points to spend"), min_value=1, max_value=10_000_000)
    reference = forms.CharField(label=_("Receipt number"), max_length=64, required=False)


class CouponCheckForm(ConsoleForm):
    code = forms.CharField(
        label=_("Coupon code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    amount = YuanField(label=_("Order amount (yuan)"), allow_zero=True)


class CouponRedeemForm(CouponCheckForm):
    reference = forms.CharField(label=_("Receipt number"), max_length=64, required=False)


# --- the operator console -------------------------------------------------------------------
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RuleForm(ConsoleForm):
    category = forms.ChoiceField(
        label=_("Shop category"),
        required=False,
        choices=[("", _("Every category")), *ShopCategory.choices],
    )
    name = forms.CharField(label=_("Rule name"), max_length=60)
    points_per_yuan = forms.DecimalField(
        label=_("Points per yuan"), max_digits=6, decimal_places=2, min_value=Decimal(0)
    )
    funder = forms.ChoiceField(
        label=_("Funded by"), choices=[("mall", _("Mall")), ("merchant", _("Merchant"))]
    )
    daily_cap = forms.IntegerField(
        label=_("Daily cap per member (points)"), required=False, min_value=1
    )


class CampaignForm(ConsoleForm):
    name = forms.CharField(label=_("Campaign name"), max_length=60)
    multiplier = forms.DecimalField(
        label=_("Multiplier"), max_digits=4, decimal_places=2, initial=Decimal(2)
    )
    categories = forms.MultipleChoiceField(
        label=_("Only these categories"),
        required=False,
        choices=ShopCategory.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=DATETIME)


class TemplateForm(ConsoleForm):
    """A mall coupon template; amounts in yuan, validity in days from the claim."""

    kind = forms.ChoiceField(label=_("Kind"), choices=CouponKind.choices)
    title = forms.CharField(label=_("Title"), max_length=60)
    description = forms.CharField(label=_("Details"), max_length=300, required=False)
    value = YuanField(label=_("Value (yuan)"), required=False, allow_zero=True)
    threshold = YuanField(label=_("Minimum spend (yuan)"), required=False, allow_zero=True)
    percent_off = forms.IntegerField(
        label=_("Percent off"), required=False, min_value=0, max_value=100
    )
    cap = YuanField(label=_("Largest discount (yuan)"), required=False, allow_zero=True)
    gift_name = forms.CharField(label=_("Gift"), max_length=60, required=False)
    parking_hours = forms.IntegerField(
        label=_("Free parking hours"), required=False, min_value=0, max_value=100
    )
    valid_days = forms.IntegerField(
        label=_("Valid for (days from the claim)"), initial=30, min_value=0, max_value=10_000
    )
    claim_ends = forms.DateTimeField(label=_("Claiming ends"), widget=DATETIME)
    total_stock = forms.IntegerField(label=_("Stock"), min_value=0, initial=100)
    per_member_total = forms.IntegerField(
        label=_("Per member in total"), min_value=0, max_value=1000, initial=1
    )
    per_member_daily = forms.IntegerField(
        label=_("Per member a day (0: no limit)"), min_value=0, max_value=1000, initial=0
    )
    channels = forms.MultipleChoiceField(
        label=_("Given out"),
        choices=[
            (Channel.APP, _("Claimed in the app")),
            (Channel.PUSH, _("Pushed by an operator")),
            (Channel.POINTS, _("Bought with points")),
            (Channel.CHECKOUT, _("Rewarded at checkout")),
            (Channel.CARE, _("Special-date care")),
        ],
        widget=forms.CheckboxSelectMultiple,
        initial=[Channel.APP],
    )


# the service's field names -> this form's
TEMPLATE_FIELDS = {
    "value_fen": "value",
    "threshold_fen": "threshold",
    "cap_fen": "cap",
    "valid_until": "valid_days",
    "scope_mall_ids": "kind",
    "scope_shop_ids": "kind",
}


class PushForm(ConsoleForm):
    tag = forms.CharField(label=_("Members with the tag"), max_length=40)


class AdjustForm(ConsoleForm):
    op = OpField()
    points = forms.IntegerField(
        label=_("Points (+ to add, - to take away)"), min_value=-10_000_000, max_value=10_000_000
    )
    reason = forms.CharField(label=_("Reason for the adjustment"), max_length=200)
    mall = forms.TypedChoiceField(label=_("Charged to the pool of"), coerce=int)


class TagForm(ConsoleForm):
    tag = forms.CharField(label=_("Tag"), max_length=30)


class RangeForm(ConsoleForm):
    start = forms.DateField(label=_("From"), widget=DATE)
    end = forms.DateField(label=_("To (inclusive)"), widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date must not be before the start date."))
        if start and end and (end - start).days > 366:
            self.add_error("end", _("At most one year at a time."))
        return data


class ReplyForm(ConsoleForm):
    body = forms.CharField(
        label=_("Reply"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PromotionForm(ConsoleForm):
    title = forms.CharField(label=_("Title"), max_length=80)
    body = forms.CharField(
        label=_("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    tag = forms.CharField(label=_("Only members with the tag"), max_length=40, required=False)
