"""Table and column names spliced into SQL: they cannot be bound as parameters, so only plain ones pass."""

import re

_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


def sql_name(name: str) -> str:
    """``name`` itself when it is a plain ``[schema.]identifier``; ValueError otherwise."""
    if not _PLAIN.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name
