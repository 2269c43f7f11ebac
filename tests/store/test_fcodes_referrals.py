"""F-codes go to the friends who helped most and work once, for their owner only; referral
links credit the referrer once, never for themself or a second account of theirs."""

from __future__ import annotations

import uuid

from conftest import UserFactory
from fastapi.testclient import TestClient

from canyu.accounts import service as accounts
from canyu.accounts.models import Role, User
from canyu.community import service as community
from canyu.db import Database
from canyu.store.ledger import SqlLedger
from store.conftest import ADDRESS

from .conftest import AuthHeaders, Catalogue, Clock, SaleFactory
from .test_sale_api import buy, error_code, join


def accepted_posts(database: Database, team: User, author: User, count: int) -> None:
    with database.session() as s:
        for n in range(count):
            post = community.create_post(
                s, author=author, kind="idea", title=f"Idea {n} of {author.id}", body="Useful."
            )
            community.change_status(s, actor=team, post_id=post.id, status="accepted")


def test_fcodes_go_to_top_contributors_and_work_once_for_their_owner(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
    catalogue: Catalogue,
    clock: Clock,
    database: Database,
) -> None:
    top, second, third, nobody = (make_user() for _ in range(4))
    for author, posts in ((top, 3), (second, 2), (third, 1)):
        accepted_posts(database, catalogue.team, author, posts)
    sale = make_sale(SqlLedger(), stock=5, fcode_stock=2, buyer_limit=2)
    refused = store_client.post(f"/api/v1/sales/{sale.id}/fcodes", headers=auth(top))
    assert refused.status_code == 403
    issued = store_client.post(
        f"/api/v1/sales/{sale.id}/fcodes", headers=auth(catalogue.team)
    ).json()
    assert [c["user_id"] for c in issued] == [top.id, second.id]
    assert (
        store_client.post(f"/api/v1/sales/{sale.id}/fcodes", headers=auth(catalogue.team)).json()
        == []
    ), "never more codes than the slice"
    code = store_client.get("/api/v1/me/fcodes", headers=auth(top)).json()[0]["code"]

    clock.advance(minutes=6)
    pass_top = join(store_client, sale.id, auth(top))["sale_pass"]
    pass_nobody = join(store_client, sale.id, auth(nobody))["sale_pass"]
    foreign = buy(store_client, sale.id, pass_nobody, fcode=code)
    assert foreign.status_code == 403
    unknown = buy(store_client, sale.id, pass_nobody, fcode="FNOTAREALCODE00")
    assert unknown.status_code == 422
    used = buy(store_client, sale.id, pass_top, fcode=code)
    assert used.status_code == 201, used.text
    assert used.json()["channel"] == "fcode"
    # Priority without queueing: the F-code unit comes from the slice, the queue keeps its own.
    status = store_client.get(f"/api/v1/sales/{sale.id}").json()
    assert (status["fcode_units_left"], status["units_left"]) == (1, 3)
    again = buy(store_client, sale.id, pass_top, fcode=code)
    assert again.status_code == 409
    assert error_code(again) == "fcode_used"


def test_referral_credit_once_and_never_to_oneself_or_a_second_account(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
    clock: Clock,
    database: Database,
) -> None:
    referrer = make_user()
    with database.session() as s:
        second_account = accounts.create_user(
            s,
            email=referrer.email.replace("@", "+again@"),
            password="correct horse battery",
            display_name="Me again",
            role=Role.FRIEND,
        )
    friend, card_sharer = make_user(), make_user()
    sale = make_sale(SqlLedger(), stock=10)
    clock.advance(minutes=6)
    link = store_client.get("/api/v1/me/referral", headers=auth(referrer)).json()
    assert link["url"].endswith(link["code"])
    code = link["code"]

    def buy_and_pay(user: User, card: str) -> None:
        sale_pass = join(store_client, sale.id, auth(user))["sale_pass"]
        made = buy(store_client, sale.id, sale_pass, referral=code)
        assert made.status_code == 201, made.text
        paid = store_client.post(
            f"/api/v1/orders/{made.json()['number']}/pay",
            json={"payment_token": card, "address": ADDRESS},
            headers=auth(user),
        )
        assert paid.status_code == 200, paid.text

    buy_and_pay(referrer, "fake_ok_referrers_card")  # referring yourself: nothing
    buy_and_pay(second_account, "fake_ok_other_card")  # the same mailbox: nothing
    buy_and_pay(card_sharer, "fake_ok_referrers_card")  # paid with the referrer's card
    assert store_client.get("/api/v1/me/referral", headers=auth(referrer)).json()["credited"] == 0
    buy_and_pay(friend, "fake_ok_friends_card")
    assert store_client.get("/api/v1/me/referral", headers=auth(referrer)).json()["credited"] == 1

    forged = buy(
        store_client,
        sale.id,
        join(store_client, sale.id, auth(make_user()))["sale_pass"],
        referral="forged." + uuid.uuid4().hex,
    )
    assert forged.status_code == 201, "a bad referral code is ignored, not an error"
