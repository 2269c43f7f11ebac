"""The markets API and pages by role: signed out, a friend, another friend, team, admin."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from conftest import PASSWORD, UserFactory, assert_error
from fastapi.testclient import TestClient

from canyu.accounts.models import Role, User

from .conftest import Loader

Auth = Callable[[User], dict[str, str]]
HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

READS = [
    "/api/v1/markets/ranking?asof=2014",
    "/api/v1/markets/countries/IND?asof=2014",
    "/api/v1/markets/backtest?plan=plan&asof=2014",
    "/api/v1/markets/openings",
]
PAGES = ["/markets?asof=2014", "/markets/countries/IND?asof=2014"]


@pytest.fixture
def people(make_user: UserFactory) -> dict[str, User]:
    return {
        "friend": make_user(),
        "another friend": make_user(country="IN"),
        "team": make_user(Role.TEAM),
        "admin": make_user(Role.ADMIN),
    }


def sign_in(client: TestClient, user: User) -> None:
    token = _CSRF.search(client.get("/signin", headers=HTML).text)
    assert token
    response = client.post(
        "/signin",
        data={"csrf_token": token.group(1), "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_reads_by_role(
    client: TestClient, load_world: Loader, people: dict[str, User], auth: Auth
) -> None:
    load_world()
    for path in READS:
        assert_error(client.get(path), 401, "unauthorized")
        for who in ("friend", "another friend"):
            assert_error(client.get(path, headers=auth(people[who])), 403, "forbidden")
        for who in ("team", "admin"):
            response = client.get(path, headers=auth(people[who]))
            assert response.status_code == 200, (path, who, response.text)


def test_writes_by_role(client: TestClient, people: dict[str, User], auth: Auth) -> None:
    body = {"country": "IN", "opened_on": "2014-07-15", "note": "Flipkart"}
    assert_error(client.post("/api/v1/markets/openings", json=body), 401, "unauthorized")
    for who in ("friend", "another friend"):
        response = client.post("/api/v1/markets/openings", json=body, headers=auth(people[who]))
        assert_error(response, 403, "forbidden")
    created = client.post("/api/v1/markets/openings", json=body, headers=auth(people["team"]))
    assert created.status_code == 201, created.text
    assert created.json()["iso3"] == "IND"
    assert created.json()["decided_by_id"] == people["team"].id
    again = client.post("/api/v1/markets/openings", json=body, headers=auth(people["admin"]))
    assert_error(again, 409, "conflict")
    listed = client.get("/api/v1/markets/openings", headers=auth(people["admin"]))
    assert [o["iso3"] for o in listed.json()] == ["IND"]


def test_bad_input_is_a_clear_4xx(
    client: TestClient, load_world: Loader, people: dict[str, User], auth: Auth
) -> None:
    load_world()
    team = auth(people["team"])
    for path in (
        "/api/v1/markets/ranking?asof=1800",
        "/api/v1/markets/ranking",
        "/api/v1/markets/ranking?asof=2014&size=2",
        "/api/v1/markets/ranking?asof=2014&tipping=0&social=0&ecommerce=0",
        "/api/v1/markets/countries/ZZZ?asof=2014",
        "/api/v1/markets/countries/TOOLONG?asof=2014",
        "/api/v1/markets/backtest?plan=nope",
    ):
        response = client.get(path, headers=team)
        assert response.status_code in (400, 422), (path, response.text)
        assert_error(response, response.status_code, "invalid_input")
    assert_error(
        client.get("/api/v1/markets/countries/FRA?asof=2014", headers=team), 404, "not_found"
    )
    for body in (
        {"country": "ZZZ", "opened_on": "2014-01-01"},
        {"country": "IND", "opened_on": "someday"},
        {"country": "IND", "opened_on": "2014-01-01", "note": "x" * 2001},
        {"country": "IND", "opened_on": "2014-01-01", "extra": 1},
    ):
        response = client.post("/api/v1/markets/openings", json=body, headers=team)
        assert response.status_code in (400, 422), (body, response.text)


def test_the_ranking_json_explains_each_score(
    client: TestClient, load_world: Loader, people: dict[str, User], auth: Auth
) -> None:
    load_world()
    body = client.get(
        "/api/v1/markets/ranking?asof=2014&size=0.3", headers=auth(people["team"])
    ).json()
    assert body["asof"] == 2014
    assert body["uses_figures_up_to"] == 2013
    assert body["home_market"] == "CHN"
    assert body["weights"]["size"] == 0.3
    ranks = [c["rank"] for c in body["countries"]]
    assert ranks == sorted(ranks)
    india = next(c for c in body["countries"] if c["iso3"] == "IND")
    assert set(india["criteria"]) == {"tipping", "social", "ecommerce", "size"}
    card = client.get("/api/v1/markets/countries/in?asof=2014", headers=auth(people["team"])).json()
    assert card["iso3"] == "IND"
    assert card["scurve"]["points"]
    assert any(f["imputed"] for f in card["figures"])


def test_pages_by_role(client: TestClient, load_world: Loader, people: dict[str, User]) -> None:
    load_world()
    for path in PAGES:
        response = client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin")
    for who, status in (("friend", 403), ("another friend", 403), ("team", 200), ("admin", 200)):
        client.cookies.clear()
        sign_in(client, people[who])
        for path in PAGES:
            response = client.get(path, headers=HTML)
            assert response.status_code == status, (who, path)
        token = _CSRF.search(client.get("/profile", headers=HTML).text)
        assert token
        opened = client.post(
            "/markets/openings",
            data={
                "csrf_token": token.group(1),
                "country": "BRA",
                "opened_on": "2015-06-30",
                "note": "",
                "asof": "2014",
            },
            headers=HTML,
            follow_redirects=False,
        )
        if status == 403:
            assert opened.status_code == 403
        elif who == "team":
            assert opened.status_code == 303
            assert opened.headers["location"].startswith("/markets/countries/BRA")
        else:  # the admin tries the same market again: the card says why
            assert opened.status_code == 409
            assert "already an opened market" in opened.text


def test_the_page_form_checks_csrf(client: TestClient, people: dict[str, User]) -> None:
    sign_in(client, people["team"])
    response = client.post(
        "/markets/openings",
        data={"csrf_token": "forged", "country": "BRA", "opened_on": "2015-06-30"},
        headers=HTML,
    )
    assert response.status_code == 403


def test_the_chinese_catalogue_covers_the_markets_strings() -> None:
    from babel.messages.extract import extract_from_dir, extract_from_file

    from canyu.i18n import gettext_for
    from canyu.markets.indicators import INDICATORS
    from canyu.markets.scoring import TEMPLATES
    from canyu.web.templating import TEMPLATE_DIR

    keywords = {"_": None, "gettext": None}
    wanted: set[str] = set()
    for _name, _line, message, _c, _ctx in extract_from_dir(
        str(TEMPLATE_DIR / "markets"),
        method_map=[("**.html", "jinja2.ext:babel_extract")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True"}},
        keywords=keywords,
    ):
        wanted.add(message if isinstance(message, str) else message[0])
    pages = TEMPLATE_DIR.parent.parent / "markets" / "pages.py"
    for _line, message, _c, _ctx in extract_from_file("python", str(pages), keywords=keywords):
        wanted.add(message if isinstance(message, str) else message[0])
    wanted |= {i.title for i in INDICATORS.values()} | {i.unit for i in INDICATORS.values()}
    wanted |= set(TEMPLATES)
    assert len(wanted) > 60
    zh = gettext_for("zh")
    assert not sorted(m for m in wanted if zh(m) == m)


def test_the_page_takes_the_strategists_weights(
    client: TestClient, load_world: Loader, people: dict[str, User]
) -> None:
    load_world()
    sign_in(client, people["team"])
    page = client.get("/markets?asof=2014&size=0.2&tipping=3", headers=HTML)
    assert page.status_code == 200
    assert 'name="size" type="number" min="0" max="1" step="0.05" value="0.2"' in page.text
    assert 'name="tipping" type="number" min="0" max="10" step="0.5" value="3"' in page.text
    assert "size=0.2&amp;tipping=3" in page.text  # links to the cards keep the weights
    zero = client.get("/markets?asof=2014&tipping=0&social=0&ecommerce=0", headers=HTML)
    assert zero.status_code == 422
    assert "positive weight" in zero.text
    assert client.get("/markets?asof=2014&size=7", headers=HTML).status_code == 422


def test_the_page_before_any_import_says_what_to_run(
    client: TestClient, people: dict[str, User]
) -> None:
    sign_in(client, people["team"])
    page = client.get("/markets", headers=HTML)
    assert page.status_code == 200
    assert "canyu markets import DIR" in page.text
    card = client.get("/markets/countries/IND", headers=HTML)
    assert card.status_code == 404
