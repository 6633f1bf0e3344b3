"""The cluster sheet's form: which glitches keep the label, the label, a new class's name and
description. A refused submit is shown again as it was sent, the reason beside its field:
the sheet came back fresh, every glitch ticked again and the new class's words gone, so the
next submit labelled the odd ones out too."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from webapp.discovery import services

# The service's reasons, by field: its class_proposal_create names the fields of a proposal
# (name, description); batch_submit's other refusals carry a code.
FIELD_OF_KEY = {"name": "new_name", "description": "new_description"}
FIELD_OF_CODE = {
    "none_selected": "selected",
    "not_in_batch": "selected",
    "no_class": "choice",
    "not_collecting": "choice",
}


class GlitchIds(forms.Field):
    """The ticked glitches' ids: every value of the name, as numbers."""

    widget = forms.MultipleHiddenInput  # reads every value sent under the name

    def to_python(self, value: Any) -> list[int]:
        try:
            return [int(v) for v in value or []]
        except (TypeError, ValueError):
            raise ValidationError("glitches are named by their numbers", code="invalid") from None


class SheetForm(forms.Form):
    # Lenient: services.batch_submit decides, and its refusals go beside these fields.
    selected = GlitchIds(required=False)
    choice = forms.CharField(required=False)
    new_name = forms.CharField(required=False, strip=False)
    new_description = forms.CharField(required=False, strip=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("choice", "")
        proposal = choice.removeprefix("proposal:")
        if choice.startswith("proposal:") and not (proposal.isdecimal() and len(proposal) < 19):
            self.add_error("choice", "that class is not collecting votes")  # a hand-made form
        if choice == "new" and not data.get("new_name", "").strip():
            self.add_error("new_name", "name the new class (e.g. Reverse_Chirp)")
        return data

    def label(self) -> services.BatchLabel:
        """The label chosen (for a valid form)."""
        choice: str = self.cleaned_data["choice"]
        proposal = choice.removeprefix("proposal:") if choice.startswith("proposal:") else None
        new = choice == "new"
        return services.BatchLabel(
            class_name="" if proposal is not None or new else choice,
            proposal_id=int(proposal) if proposal is not None else None,
            new_name=self.cleaned_data["new_name"] if new else "",
            new_description=self.cleaned_data["new_description"] if new else "",
        )

    def refused(self, error: ValidationError) -> None:
        """The service's refusal, each reason beside the field it is about."""
        if hasattr(error, "error_dict"):
            for key, errors in error.error_dict.items():
                self.add_error(FIELD_OF_KEY.get(key), errors)
        else:
            for one in error.error_list:
                self.add_error(FIELD_OF_CODE.get(one.code or ""), one)

    def ticked(self, subject_ids: list[int]) -> set[int]:
        """The glitches shown ticked: all of them on a new sheet, else those sent."""
        if not self.is_bound and "selected" not in self.initial:
            return set(subject_ids)
        sent = (str(v) for v in self["selected"].value() or [])
        return {int(v) for v in sent if v.isdecimal() and len(v) < 19} & set(subject_ids)


class ClassNamedForm(forms.ModelForm):
    """An admin's form of a model with a class `name` (a glitch class, a proposal): a name
    added or renamed there is held to a volunteer's proposal's rules
    (services.class_name_check): the admin added B1ip beside Blip as easily. A name left as
    it is is not asked again (the registry's own 1080Lines breaks the shape rule)."""

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if "name" in self.changed_data:
            try:
                services.class_name_check(name, other_than=self.instance.name)
            except ValidationError as refused:  # {"name": why}: a field's error is a list
                raise ValidationError(refused.messages) from None
        return name
