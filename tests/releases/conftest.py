from releases.fixtures import (  # noqa: F401  (fixtures)
    api,
    key_dirs,
    release_app,
    release_settings,
    runtime,
    serve,
    shop,
)
