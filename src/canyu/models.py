"""Imports every domain's tables so Alembic and create_all see the whole schema."""

from canyu.accounts import models as accounts_models
from canyu.community import models as community_models

__all__ = ["accounts_models", "community_models"]
