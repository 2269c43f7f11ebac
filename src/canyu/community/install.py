"""How the community domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

import threading

from fastapi import FastAPI, Request

from canyu import lifecycle
from canyu.accounts.models import User
from canyu.community import (
    api,
    conversations,
    digest,
    moderation,
    pages,
    service,
    team_api,
    team_pages,
)
from canyu.community.similar import SimilarPosts
from canyu.community.similarity import embedding_model
from canyu.db import Database
from canyu.web.templating import Viewer, add_page_context


def install(app: FastAPI) -> None:
    """Routes, and the similar-posts index: built in the background when the server starts
    (queries wait for it), kept up to date as posts are written."""
    similar = SimilarPosts(app.state.settings.similarity_method)
    app.state.similar = similar
    database: Database = app.state.database

    def warm() -> None:
        embedding_model()
        with database.session() as session:
            similar.catch_up(session)

    lifecycle.on_start(
        app,
        lambda: threading.Thread(target=warm, name="canyu-index-warmup", daemon=True).start(),
    )

    def unread(_request: Request, user: Viewer | None) -> dict[str, object]:
        if not isinstance(user, User):
            return {"unread": 0}
        with database.session() as session:
            return {"unread": service.unread_count(session, user=user)}

    add_page_context(app, unread)

    def waiting(_request: Request, user: Viewer | None) -> dict[str, object]:
        """What waits for the team: reported items and friends' unanswered messages."""
        if not isinstance(user, User) or not user.is_team:
            return {}
        with database.session() as session:
            return {
                "reports_waiting": moderation.open_report_count(session),
                "answers_waiting": conversations.awaiting_count(session),
            }

    add_page_context(app, waiting)
    lifecycle.schedule(app, digest.JOB)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(team_api.router)
    app.include_router(team_pages.router)
