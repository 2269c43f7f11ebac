"""The ASGI entry point for uvicorn workers: `canyu.asgi:app`.

Devices' check-ins take the fast path in front of the app (canyu.releases.edge); everything else,
check-in errors' contract included, is the FastAPI app's. `fastapi_app` is the same app without
that layer, for the benchmark that compares the two.
"""

import gc

from sqlalchemy.orm import configure_mappers

from canyu.app import create_app
from canyu.config import get_settings
from canyu.logs import configure
from canyu.releases.edge import CheckinEdge

configure(get_settings().log_level)
fastapi_app = create_app()
app = CheckinEdge(fastapi_app)

# What is built by now (modules, the app and its routes, the mappers, configured here rather than
# by the first query) lives as long as the worker. Frozen, it is left out of the cyclic
# collector's full passes: otherwise each walked about 240,000 objects, three or four times per
# 100,000 check-ins, 0.53-0.58 s in all on the benchmark machine; frozen, 0.02 s
# (docs/benchmarks.md).
configure_mappers()
gc.collect()
gc.freeze()
