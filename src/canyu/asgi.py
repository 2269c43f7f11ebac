"""The ASGI entry point for uvicorn workers: `canyu.asgi:app`.

Devices' check-ins take the fast path in front of the app (canyu.devices.edge); everything else,
check-in errors' contract included, is the FastAPI app's. `fastapi_app` is the same app without
that layer, for the benchmark that compares the two.
"""

from canyu.app import create_app
from canyu.config import get_settings
from canyu.devices.edge import CheckinEdge
from canyu.logs import configure

configure(get_settings().log_level)
fastapi_app = create_app()
app = CheckinEdge(fastapi_app)
