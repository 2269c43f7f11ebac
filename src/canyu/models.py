"""Imports every domain's tables so Alembic and create_all see the whole schema."""

from canyu.accounts import models as accounts_models
from canyu.calls import models as calls_models
from canyu.community import models as community_models
from canyu.community import team_models as community_team_models
from canyu.devices import models as devices_models
from canyu.greetings import models as greetings_models
from canyu.hotspots import models as hotspots_models
from canyu.iot import models as iot_models
from canyu.markets import models as markets_models
from canyu.releases import models as releases_models
from canyu.store import models as store_models

__all__ = [
    "accounts_models",
    "calls_models",
    "community_models",
    "community_team_models",
    "devices_models",
    "greetings_models",
    "hotspots_models",
    "iot_models",
    "markets_models",
    "releases_models",
    "store_models",
]
