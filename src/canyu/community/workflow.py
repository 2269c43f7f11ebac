"""The status workflow friends see: new → accepted → planned → shipped, declined, duplicate."""

from __future__ import annotations

from canyu.community.models import Status
from canyu.errors import Conflict, InvalidInput

# Team moves. "duplicate" is entered and left only through merge and undo-merge.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ACCEPTED, Status.PLANNED, Status.DECLINED}),
    Status.ACCEPTED: frozenset({Status.PLANNED, Status.SHIPPED, Status.DECLINED, Status.NEW}),
    Status.PLANNED: frozenset({Status.SHIPPED, Status.ACCEPTED, Status.DECLINED}),
    Status.SHIPPED: frozenset({Status.ACCEPTED}),  # reopened after a regression
    Status.DECLINED: frozenset({Status.NEW, Status.ACCEPTED}),
    Status.DUPLICATE: frozenset(),
}
# Friends deserve to know why their post will not happen.
REASON_REQUIRED = frozenset({Status.DECLINED})
MAX_REASON = 2000


def parse_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise InvalidInput(f"Unknown status {value!r}; one of: {allowed}.") from None


def check_transition(current: Status, target: Status, reason: str | None) -> None:
    if target == Status.DUPLICATE or current == Status.DUPLICATE:
        raise Conflict("Use merge to mark a duplicate, and undo the merge to reopen it.")
    if target == current:
        raise Conflict(f"The post is already {current.value}.")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        raise Conflict(f"Cannot move a {current.value} post to {target.value}; allowed: {allowed}.")
    if target in REASON_REQUIRED and not (reason and reason.strip()):
        raise InvalidInput(f"Moving a post to {target.value} needs a reason friends can read.")
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(f"A reason has at most {MAX_REASON} characters.")
