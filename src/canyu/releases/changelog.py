"""A build's changelog, assembled from its posts: what changed and which friends made it happen.

Pure: the service gathers posts, reporters, voters and opt-outs; this module orders and credits.
Each entry keeps its post's own title in the language its friend wrote it in; the framing
("Fixed", "New", "reported by") is translated for the reader by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

NAMED_VOTERS = 5


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    opted_out: bool = False


@dataclass(frozen=True)
class PostFacts:
    post_id: int
    kind: str  # "bug" or "idea"
    title: str
    language: str
    vote_count: int
    reporter: Person
    voters: Sequence[Person] = ()


@dataclass(frozen=True)
class Credit:
    reporter: str | None  # None: the reporter asked not to be named
    voters: tuple[str, ...]  # named voters, most recent policy: by name
    other_voters: int  # voters not named (beyond the first few, or opted out)


@dataclass(frozen=True)
class Entry:
    post_id: int
    kind: str
    title: str
    language: str
    votes: int
    credit: Credit


@dataclass(frozen=True)
class Changelog:
    fixed: tuple[Entry, ...] = ()
    new: tuple[Entry, ...] = ()
    contributors: int = 0  # distinct friends who reported or voted
    named: tuple[str, ...] = field(default=())  # everyone credited by name, for a thank-you line

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.fixed + self.new

    @property
    def empty(self) -> bool:
        return not self.entries


def credit_for(post: PostFacts, *, named_voters: int = NAMED_VOTERS) -> Credit:
    voters = [v for v in post.voters if v.user_id != post.reporter.user_id]
    willing = sorted((v for v in voters if not v.opted_out), key=lambda v: (v.name, v.user_id))
    shown = tuple(v.name for v in willing[:named_voters])
    return Credit(
        reporter=None if post.reporter.opted_out else post.reporter.name,
        voters=shown,
        other_voters=len(voters) - len(shown),
    )


def assemble(posts: Iterable[PostFacts]) -> Changelog:
    """Bugs fixed, then new things; each most-wanted first; everyone who helped counted."""
    facts = sorted(posts, key=lambda p: (-p.vote_count, p.post_id))
    entries = [
        Entry(p.post_id, p.kind, p.title, p.language, p.vote_count, credit_for(p)) for p in facts
    ]
    people: dict[int, Person] = {}
    for p in facts:
        people.setdefault(p.reporter.user_id, p.reporter)
        for v in p.voters:
            people.setdefault(v.user_id, v)
    named = tuple(sorted({p.name for p in people.values() if not p.opted_out}))
    return Changelog(
        fixed=tuple(e for e in entries if e.kind == "bug"),
        new=tuple(e for e in entries if e.kind != "bug"),
        contributors=len(people),
        named=named,
    )


def render_text(log: Changelog, version: str, _: Callable[[str], str]) -> str:
    """Plain-text changelog (release notes, the CLI, e-mail) in the reader's language."""
    lines = [_("What's new in {version}").format(version=version), ""]
    for heading, entries in ((_("Fixed"), log.fixed), (_("New features"), log.new)):
        if not entries:
            continue
        lines.append(heading)
        for entry in entries:
            lines.append(f"- {entry.title} (#{entry.post_id}) — {credit_text(entry.credit, _)}")
        lines.append("")
    if log.contributors:
        lines.append(
            _("Thanks to the {count} friends who reported and voted.").format(
                count=log.contributors
            )
        )
    return "\n".join(lines).rstrip() + "\n"


def credit_text(credit: Credit, _: Callable[[str], str]) -> str:
    parts = []
    if credit.reporter is not None:
        parts.append(_("reported by {name}").format(name=credit.reporter))
    else:
        parts.append(_("reported by a friend"))
    if credit.voters:
        names = ", ".join(credit.voters)
        if credit.other_voters:
            parts.append(
                _("voted for by {names} and {count} more").format(
                    names=names, count=credit.other_voters
                )
            )
        else:
            parts.append(_("voted for by {names}").format(names=names))
    elif credit.other_voters:
        parts.append(_("voted for by {count} friends").format(count=credit.other_voters))
    return "; ".join(parts)
