"""Contributor credit: a public, additive formula. Nothing here ever takes points away.

Points come from what happened, never from what was undone: a post that was accepted once keeps
its points even if it is later declined, and a friend can never go below zero.
"""

from __future__ import annotations

from dataclasses import dataclass

POINTS_POST_ACCEPTED = 10  # your post was accepted (or planned) by the team
POINTS_POST_SHIPPED = 20  # ...and it shipped in a build
POINTS_EARLY_VOTE = 2  # you voted for a post before the team accepted it

FORMULA = (
    f"{POINTS_POST_ACCEPTED} × your posts accepted + {POINTS_POST_SHIPPED} × your posts shipped"
    f" + {POINTS_EARLY_VOTE} × your votes cast before the post was accepted"
)


@dataclass(frozen=True)
class Contribution:
    posts_accepted: int
    posts_shipped: int
    early_votes: int

    @property
    def points(self) -> int:
        return (
            POINTS_POST_ACCEPTED * self.posts_accepted
            + POINTS_POST_SHIPPED * self.posts_shipped
            + POINTS_EARLY_VOTE * self.early_votes
        )
