"""The demo's markets: where the demo world's friends live is where canyu has opened (the home
market, China, is always open), each opening recorded as the team would. When the public
indicators sit beside the checkout (../shared/data/markets, never shipped in the package), they
are imported too, so the markets page has a ranking to show."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.markets import service as markets

# (country, opened on, the team's note): the demo world's countries besides China.
OPENINGS = (
    ("SG", date(2014, 3, 1), "A test market close to home: English and Chinese speakers."),
    ("MY", date(2014, 3, 1), "Opened with Singapore: the same fans, the same couriers."),
    ("IN", date(2014, 7, 15), "Smartphones about to tip, e-commerce partners ready."),
    ("ID", date(2014, 8, 1), "A large market on the S-curve's steep part."),
    ("PH", date(2014, 8, 1), "Social networks mature, smartphones still rare."),
    ("ES", date(2017, 11, 1), "The first European market."),
    ("US", date(2018, 3, 1), "Online sales of accessories first."),
)
SHARED_MARKETS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "markets"


def add_demo_markets(
    session: Session, *, team: User, data_dir: Path | None = SHARED_MARKETS
) -> int:
    """Record the openings; import the indicators when they are at hand. The openings made."""
    for country, opened_on, note in OPENINGS:
        markets.open_market(
            session, country_code=country, opened_on=opened_on, note=note, by_user_id=team.id
        )
    if data_dir is not None and data_dir.is_dir():
        markets.import_dir(session, data_dir)
    return len(OPENINGS)
