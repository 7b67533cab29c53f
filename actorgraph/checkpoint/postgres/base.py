"""Import-compatible path: the base class both Postgres savers share."""

from actorgraph.persistence._postgres import BasePostgresSaver

__all__ = ("BasePostgresSaver",)
