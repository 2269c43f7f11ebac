"""The demo world that `canyu demo` serves: friends in several countries, a week of feedback,
builds in rollout, a flash sale and spam marks. Demo fillers live here, outside the domains;
they write through the domains' services and tables like any tool would."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.demo.world import DemoSummary, fill_demo_world
from canyu.progress import Report


def fill_demo(session: Session, *, progress: Report) -> DemoSummary:
    """The feedback world, then what plugs into it: the markets canyu has opened, signed builds
    with this week's in rollout (from the planned posts), an upcoming flash sale, spam-call
    marks and friends' greetings for the next festivals."""
    from canyu.accounts.models import Role, User
    from canyu.demo.calls import add_demo_calls
    from canyu.demo.greetings import add_demo_greetings
    from canyu.demo.hotspots import add_demo_hotspots
    from canyu.demo.markets import add_demo_markets
    from canyu.demo.releases import add_demo_releases
    from canyu.demo.store import add_demo_sale

    summary = fill_demo_world(session, progress=progress)
    session.flush()
    team = session.scalars(
        select(User).where(User.role == Role.TEAM.value).order_by(User.id).limit(1)
    ).one()
    friends = session.scalars(
        select(User).where(User.role == Role.FRIEND.value).order_by(User.id)
    ).all()
    add_demo_markets(session, team=team)
    add_demo_releases(session, team=team, friends=friends, progress=progress)
    add_demo_sale(session, team=team)
    add_demo_calls(session)
    add_demo_greetings(session, team=team, friends=friends)
    add_demo_hotspots(session)
    return summary
