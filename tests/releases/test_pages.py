"""The release pages through TestClient: calendar, build page with credits and hashes, rollout
page with stages, chart and the team's CSRF-protected buttons, in English and Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po
from conftest import PASSWORD
from fastapi.testclient import TestClient

from canyu.accounts.models import User
from canyu.db import Database
from canyu.i18n import LOCALE_DIR
from canyu.releases import pages as release_pages
from canyu.releases import wording
from canyu.releases.models import Channel, RolloutStatus
from canyu.web.templating import TEMPLATE_DIR

from .fixtures import Shop, UserMaker
from .world import ReleaseWorld, seed

HTML = {"Accept": "text/html"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, user: User) -> None:
    page = client.get("/signin", headers=HTML)
    token = CSRF.search(page.text)
    assert token
    response = client.post(
        "/signin",
        data={"csrf_token": token.group(1), "email": user.email, "password": PASSWORD},
        follow_redirects=False,
        headers=HTML,
    )
    assert response.status_code == 303


@pytest.fixture
def world(shop: Shop, database: Database, make_user: UserMaker) -> ReleaseWorld:
    return seed(shop, database, make_user)


@pytest.mark.parametrize(("accept", "marker"), [("en", "Release calendar"), ("zh-CN", "发布日历")])
def test_pages_render_in_both_languages(
    api: TestClient, world: ReleaseWorld, accept: str, marker: str
) -> None:
    headers = {**HTML, "Accept-Language": accept}
    calendar = api.get("/releases", headers=headers)
    assert calendar.status_code == 200
    assert marker in calendar.text
    assert "4.11.22" in calendar.text
    build = api.get(f"/releases/builds/{world.build_id}", headers=headers)
    assert build.status_code == 200
    assert world.post_title in build.text
    assert "锁屏显示农历" in build.text
    assert world.friend.display_name in build.text  # the reporter is credited
    assert re.search(r"[0-9a-f]{64}", build.text)  # the payload's SHA-256
    assert "stable/4.11.22/update.zip" in build.text
    rollout = api.get(f"/releases/rollouts/{world.rollout.id}", headers=headers)
    assert rollout.status_code == 200
    assert rollout.text.count("<polyline") == 2  # failure and crash rates, each with its limit
    assert rollout.text.count('class="limit"') == 2
    assert 'aria-current="step"' in rollout.text
    # The build's channel by the name the reader's language gives it, on every page showing it.
    channel = {"en": "stable", "zh-CN": "稳定版"}[accept]
    assert {"en": "Channel: ", "zh-CN": "渠道："}[accept] + channel in build.text
    assert channel in calendar.text
    assert channel in rollout.text
    if accept == "zh-CN":
        assert "健康指标与上限" in rollout.text
        assert "第 2 阶段" in rollout.text


def test_only_the_team_sees_and_uses_the_buttons(
    api: TestClient, world: ReleaseWorld, database: Database
) -> None:
    url = f"/releases/rollouts/{world.rollout.id}"
    assert 'data-action="pause"' not in api.get(url, headers=HTML).text
    sign_in(api, world.friend)
    page = api.get(url, headers=HTML)
    assert 'data-action="pause"' not in page.text
    token = CSRF.search(page.text)
    assert token
    refused = api.post(f"{url}/pause", data={"csrf_token": token.group(1)}, headers=HTML)
    assert refused.status_code == 403

    api.cookies.clear()
    sign_in(api, world.team)
    page = api.get(url, headers=HTML)
    assert 'data-action="pause"' in page.text
    assert 'data-action="resume"' not in page.text
    no_csrf = api.post(f"{url}/pause", data={}, headers=HTML)
    assert no_csrf.status_code == 403
    token = CSRF.search(page.text)
    assert token
    paused = api.post(f"{url}/pause", data={"csrf_token": token.group(1)}, headers=HTML)
    assert paused.status_code == 200  # followed the redirect back to the page
    assert 'data-action="resume"' in paused.text
    assert "The rollout is paused" in paused.text
    again = api.post(f"{url}/pause", data={"csrf_token": token.group(1)}, headers=HTML)
    assert "Cannot pause a rollout that is paused" in again.text


def credits(page: str) -> str:
    return " ".join(re.findall(r'<span class="credit">(.*?)</span>', page))


def test_a_friend_opts_out_of_being_named_from_the_profile(
    api: TestClient, world: ReleaseWorld
) -> None:
    build_url = f"/releases/builds/{world.build_id}"
    sign_in(api, world.friend)
    profile = api.get("/profile", headers=HTML)
    assert 'name="named" value="true" checked' in profile.text
    token = CSRF.search(profile.text)
    assert token
    # An unchecked box sends nothing: the friend is no longer named, but still counted.
    saved = api.post("/profile/release-credit", data={"csrf_token": token.group(1)}, headers=HTML)
    assert saved.status_code == 200
    assert 'name="named" value="true" checked' not in saved.text
    assert api.get("/api/v1/me/release-credit").json() == {"opted_out": True}
    assert world.friend.display_name not in credits(api.get(build_url, headers=HTML).text)
    api.post(
        "/profile/release-credit",
        data={"csrf_token": token.group(1), "named": "true"},
        headers=HTML,
    )
    assert world.friend.display_name in credits(api.get(build_url, headers=HTML).text)
    forged = api.post("/profile/release-credit", data={"named": "true"}, headers=HTML)
    assert forged.status_code == 403


def test_unknown_pages_are_404(api: TestClient) -> None:
    assert api.get("/releases/builds/999999", headers=HTML).status_code == 404
    assert api.get("/releases/rollouts/999999", headers=HTML).status_code == 404


def test_the_releases_catalogue_covers_its_strings() -> None:
    catalogues = {}
    for path in sorted((LOCALE_DIR / "zh").glob("*.po")):
        with path.open("rb") as handle:
            for entry in read_po(handle, locale="zh"):
                if entry.id and entry.string:
                    catalogues[entry.id if isinstance(entry.id, str) else entry.id[0]] = (
                        entry.string
                    )
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    wanted: set[str] = set()
    options = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True"}}
    for _n, _l, message, _c, _x in extract_from_dir(
        str(TEMPLATE_DIR / "releases"),
        method_map=[("**.html", "jinja2.ext:babel_extract")],
        options_map=options,
        keywords=keywords,
    ):
        wanted.add(message[0] if isinstance(message, tuple) else message)
    src = Path(release_pages.__file__).parent
    for _l, message, _c, _x in extract_from_file(
        "python", str(src / "changelog.py"), keywords=keywords
    ):
        wanted.add(message[0] if isinstance(message, tuple) else message)
    wanted |= set(release_pages.DONE.values()) | set(release_pages.REFUSED.values())
    for _l, message, _c, _x in extract_from_file(
        "python", str(src / "wording.py"), keywords=keywords
    ):
        wanted.add(message[0] if isinstance(message, tuple) else message)
    wanted |= set(wording.KIND_LABELS.values())
    # Named by the templates from the records: a build's channel, a rollout's status.
    wanted |= {channel.value for channel in Channel}
    wanted |= {status.value.replace("_", " ") for status in RolloutStatus}
    assert len(wanted) > 50
    missing = sorted(m for m in wanted if m not in catalogues)
    assert not missing, f"untranslated: {missing}"
