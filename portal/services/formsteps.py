"""The step of a form key: the portal's own, else the generic step of a form an administrator defined."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from portal.services.formdefs import definition_for, spec_of
from portal.services.formspecs import FormSpec, clean_values

Step = Callable[..., dict[str, Any]]  # (case or branch, form data, user) -> routing data


def defined_step(spec: FormSpec) -> Step:
    """A step that checks the values against the form's fields (nothing is saved if one fails) and gives
    them to the workflow as routing data, so a gateway can decide on them."""

    def step(subject, data: dict[str, Any], user=None) -> dict[str, Any]:  # noqa: ARG001
        return clean_values(spec, data)

    return step


def step_for(form_key: str, steps: Mapping[str, Step]) -> Step | None:
    """``steps[form_key]`` (the chain's or the branches'), else the step of the stored form of that key."""
    step = steps.get(form_key)
    if step is not None:
        return step
    definition = definition_for(form_key)
    return defined_step(spec_of(definition)) if definition is not None else None
