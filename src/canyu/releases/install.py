"""How the releases domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from canyu import lifecycle
from canyu.accounts.models import User
from canyu.community import service as community
from canyu.community.models import Post
from canyu.db import Database
from canyu.releases import api, pages, runtime, scheduling, service, tuf_http
from canyu.releases.settings import get_release_settings
from canyu.web.templating import Viewer, add_page_context


def install(app: FastAPI) -> None:
    """Routes (API, pages, the TUF repositories), the per-process runtime (live offers, pushes,
    settings) and the periodic jobs: the weekly train, health gates, TUF timestamps. The
    check-in fast path (canyu.releases.edge) is put in front of the app by canyu.asgi. A post
    the team plans boards its product's next train (community's status hook), and the team
    sees a post's train on its page (a panel the post page includes)."""
    runtime.configure(app, get_release_settings())
    community.on_status_change(service.board_when_planned)
    database: Database = app.state.database

    def post_train(_request: Request, user: Viewer | None) -> dict[str, object]:
        if not isinstance(user, User) or not user.is_team:
            return {}

        def train_for(post: Post) -> dict[str, Any]:
            # Read when the post page asks, not for every page.
            with database.session() as session:
                guess = service.product_for_post(session, post=post)
                return {
                    "products": [(p.key, p.name) for p in service.list_products(session)],
                    "on": [(p.key, p.name) for p in service.trains_of(session, post_id=post.id)],
                    "guess": guess.key if guess else None,
                }

        return {"post_panels": ["releases/_post_train.html"], "train_for": train_for}

    add_page_context(app, post_train)
    app.include_router(api.router)
    app.include_router(tuf_http.router)
    app.include_router(pages.router)
    lifecycle.schedule(app, *scheduling.JOBS)
