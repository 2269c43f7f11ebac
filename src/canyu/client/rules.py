"""A friend's own call rules, kept on the phone: block or allow a number or a prefix, block hidden
numbers, let contacts ring, and what to do with each category the crowd labels. Pure: no
network, no files (canyu.client.state keeps them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from canyu.calls.reputation import BLOCKING, Category


class Action(StrEnum):
    RING = "ring"
    WARN = "warn"
    BLOCK = "block"


def default_actions() -> dict[str, str]:
    """Labelled categories the platform intercepts are blocked; the rest ring (deliveries)."""
    return {c.value: (Action.BLOCK if c in BLOCKING else Action.RING).value for c in Category}


def _digits(number: str) -> str:
    """A rule's key: "+" and digits only, so "+86 138-0013-8000" and "+8613800138000" match."""
    kept = "".join(ch for ch in number if ch.isdigit())
    return f"+{kept}" if number.strip().startswith("+") else kept


@dataclass
class Rules:
    block: list[str] = field(default_factory=list)  # numbers or prefixes ending in "*"
    allow: list[str] = field(default_factory=list)
    block_hidden: bool = False
    allow_contacts: bool = True
    contacts: list[str] = field(default_factory=list)  # E.164 numbers
    actions: dict[str, str] = field(default_factory=default_actions)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rules:
        rules = cls(
            block=[str(x) for x in data.get("block", [])],
            allow=[str(x) for x in data.get("allow", [])],
            block_hidden=bool(data.get("block_hidden", False)),
            allow_contacts=bool(data.get("allow_contacts", True)),
            contacts=[str(x) for x in data.get("contacts", [])],
        )
        rules.actions.update({str(k): str(Action(v)) for k, v in data.get("actions", {}).items()})
        return rules

    def as_json(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "allow": self.allow,
            "block_hidden": self.block_hidden,
            "allow_contacts": self.allow_contacts,
            "contacts": self.contacts,
            "actions": self.actions,
        }

    # --- editing ---------------------------------------------------------------------------

    @staticmethod
    def pattern(text: str) -> str:
        """A number or a prefix ("+86 400*"); raises ValueError when it holds no digit."""
        prefix = text.strip().endswith("*")
        key = _digits(text.strip().rstrip("*"))
        if not key.lstrip("+"):
            raise ValueError(f"{text!r} is not a number or a prefix (digits, then * for a prefix)")
        return key + ("*" if prefix else "")

    def add(self, which: str, text: str) -> str:
        """Put a pattern on the block or allow list (taking it off the other)."""
        key = self.pattern(text)
        mine, other = (self.block, self.allow) if which == "block" else (self.allow, self.block)
        if key in other:
            other.remove(key)
        if key not in mine:
            mine.append(key)
        return key

    def remove(self, text: str) -> bool:
        key = self.pattern(text)
        found = key in self.block or key in self.allow
        self.block = [k for k in self.block if k != key]
        self.allow = [k for k in self.allow if k != key]
        return found

    def set_action(self, category: str, action: str) -> None:
        self.actions[category] = Action(action).value

    def set_contacts(self, numbers: Iterable[str]) -> None:
        self.contacts = sorted({n for n in numbers if n})

    # --- deciding --------------------------------------------------------------------------

    def _match(self, patterns: list[str], key: str) -> str | None:
        """The longest pattern that matches: a number exactly, a prefix by its start."""
        best: str | None = None
        for pattern in patterns:
            hit = key.startswith(pattern[:-1]) if pattern.endswith("*") else key == pattern
            if hit and (best is None or len(pattern) > len(best)):
                best = pattern
        return best

    def personal(self, e164: str | None) -> tuple[Action, str] | None:
        """The friend's own decision for this caller, if any rule says one: hidden numbers,
        then the most specific block/allow pattern (a number beats a prefix, allow wins a
        tie), then contacts."""
        if e164 is None:
            return (Action.BLOCK, "hidden number") if self.block_hidden else None
        key = _digits(e164)
        blocked = self._match(self.block, key)
        allowed = self._match(self.allow, key)
        if allowed is not None and (blocked is None or len(allowed) >= len(blocked)):
            return Action.RING, f"your allow rule {allowed}"
        if blocked is not None:
            return Action.BLOCK, f"your block rule {blocked}"
        if self.allow_contacts and e164 in self.contacts:
            return Action.RING, "in your contacts"
        return None

    def for_category(self, category: str | None, *, suspicious: bool = False) -> Action:
        """What to do with a number the crowd labelled: the friend's action for its category.
        A category this phone does not know (a newer server's) warns rather than guesses."""
        if category is None:
            return Action.WARN if suspicious else Action.RING
        chosen = self.actions.get(category)
        if chosen is None:
            return Action.WARN
        return Action(chosen)
