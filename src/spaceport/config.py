"""Settings from `SPACEPORT_*` environment variables.

Any options model can take its defaults from the environment: field `max_files` of
`IngestOptions` is read from `SPACEPORT_INGEST_MAX_FILES`, for example. Values are parsed
and validated by the model itself, so a bad value names the variable and the rule.
"""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from spaceport.errors import InputError

Model = TypeVar("Model", bound=BaseModel)


def env_name(prefix: str, field: str) -> str:
    """`SPACEPORT_<PREFIX>_<FIELD>` in upper case."""
    return f"SPACEPORT_{prefix}_{field}".upper()


def from_env(model: type[Model], prefix: str, **overrides: object) -> Model:
    """Build `model` from its defaults, then the environment, then `overrides`."""
    values: dict[str, object] = {}
    for field in model.model_fields:
        raw = os.environ.get(env_name(prefix, field))
        if raw is not None:
            values[field] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise InputError(
            f"option {field} (environment {env_name(prefix, field)} or --{field.replace('_', '-')}): "
            f"{first['msg']}"
        ) from None
