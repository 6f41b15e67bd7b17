"""Page forms: shape and required fields only; the business rules are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agora.district.choices import ShopCategory
from agora.district.selectors import malls_public


class ApplyForm(forms.Form):
    """A merchant's application to open a shop (MER-2)."""

    mall = forms.TypedChoiceField(label=_("Mall"), coerce=int)
    shop_name = forms.CharField(label=_("Shop name"), max_length=80)
    brand = forms.CharField(label=_("Brand"), max_length=80, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=[("", "—"), *ShopCategory.choices])
    contact_name = forms.CharField(label=_("Contact name"), max_length=40)
    contact_phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(label=_("Email"), required=False)
    licence_number = forms.CharField(
        label=_("Unified social credit code"),
        min_length=18,
        max_length=18,
        help_text=_("18 characters, as printed on the business licence."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["mall"].choices = [("", "—")] + [(m.pk, m.name) for m in malls_public()]  # type: ignore[attr-defined]


class ShopEditForm(forms.Form):
    """What a shop's owner or manager may change themselves."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    opens_at = forms.TimeField(
        label=_("Opens at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    closes_at = forms.TimeField(
        label=_("Closes at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RejectForm(forms.Form):
    note = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
