"""The ASGI entry point for uvicorn workers: `canyu.asgi:app`."""

from canyu.app import create_app
from canyu.config import get_settings
from canyu.logs import configure

configure(get_settings().log_level)
app = create_app()
