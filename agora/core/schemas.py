"""Base of every request body schema."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import model_validator


class InputSchema(Schema):
    """A request body must be a JSON object: ninja's Schema would otherwise read a JSON array
    or string through getattr and see every optional field as unset (an empty PATCH).
    Enum fields arrive as their plain values, ready for the services and the ORM."""

    model_config = {"use_enum_values": True}

    @model_validator(mode="wrap")
    @classmethod
    def _object_only(cls, data: Any, handler: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("the request body must be a JSON object")
        return handler(data)
