"""Proposals and deliberation: proposals, amendments, translations, comments, support.

Theory of operation
-------------------
A group decides the questions of its own scale, so every proposal has a
*scope*: the group whose members deliberate on it and, later, vote on it
(specs/ballots.md). The scope is the envelope ``group`` of the event that
makes the proposal, and everything said about the proposal afterwards
(amendments, translations, their confirmations, comments, support) is
written in the same group. That keeps a proposal's whole deliberation in its
scope's stream of events, which is what a node of that scope syncs and
gossips, and it lets every rule below be read from the envelope: an event
that names a proposal of another group is as if it named nothing
(``unknown_proposal``, ``unknown_target``).

Who takes part: whoever is certified at the event's time (a real, unique
person, specs/identity.md) and is in the scope's subtree (a member of one of
its base groups). What counts for *persons* rather than keys (support,
confirmations, who translated) is keyed by the person's uniqueness tag, so a
member whose key was replaced (``cert.replace``) cannot support a proposal,
or confirm a translation, a second time with the new key, nor confirm their
own translation.

Languages: a proposal is written in one language first (its ``lang``);
anyone may add a translation of a proposal or an amendment, as their own
signed event, and others confirm it. Several translations into one language
may compete; the one most people confirmed is shown first (then the
earliest), so a proposal written in Quechua reaches Spanish speakers, and
the reverse, with a translation its readers vouch for. Language tags are
compared without regard to ASCII case (BCP 47 tags are case-insensitive).

Support: each person's support counts once. When the support reaches the
scope charter's ``support_pct`` of the scope's members (rounded up, at least
one), a ballot may open on the proposal; the ballots fold then *closes* it
(``close``): from then on amendments and support are refused
(``proposal_closed``), while comments, translations and confirmations stay
open, so the deliberation can go on during the vote.

Like protocol/groups.py, this module is part of the state fold
(protocol/state.py): the ``apply_*`` methods run in key order (ts, id),
check everything first, in the order specs/ballots.md lists, and change the
state only when nothing raised. Every target an event names must sort
before it in key order, so the state they read is the same on every node
holding the same events. A client puts the target's id in the event's refs
so that a node holds the event until its target arrives.
"""

from __future__ import annotations

from collections.abc import KeysView
from dataclasses import dataclass, field
from typing import Any

from protocol.errors import LocalError, Reason, Rejected
from protocol.event import SignedEvent
from protocol.groups import Groups
from protocol.registry import Registry

#: How deep a thread is shown nested: a reply to a comment at this depth is
#: shown beside that comment (specs/ballots.md, "Threads"), so that no
#: reader, encoder or recursive renderer has to follow a chain of thousands.
MAX_THREAD_DEPTH = 32

Key = tuple[int, bytes]


def same_language(a: str, b: str) -> bool:
    """BCP 47 tags are case-insensitive; the schema allows only ASCII."""
    return a.lower() == b.lower()


@dataclass(slots=True)
class Proposal:
    """A proposal as the state holds it. Mutable only by the fold."""

    id: bytes
    #: The group whose level decides: the envelope group of the proposal.
    scope: bytes
    author: bytes
    ts: int
    #: The original language.
    lang: str
    title: str
    text: str
    #: Amendment event ids, in key order.
    amendments: list[bytes] = field(default_factory=list)
    #: Uniqueness tags of the persons who support it (one each, whatever key).
    supporters: set[bytes] = field(default_factory=set)
    #: The ballot that put it to a vote, once one did.
    closed_by: bytes | None = None


@dataclass(frozen=True, slots=True)
class Amendment:
    id: bytes
    proposal: bytes
    scope: bytes
    author: bytes
    ts: int
    lang: str
    title: str
    text: str


@dataclass(slots=True)
class Translation:
    """A translation of a proposal or an amendment. Mutable only by the fold."""

    id: bytes
    #: The proposal or amendment translated.
    target: bytes
    scope: bytes
    author: bytes
    #: The translator's uniqueness tag (nobody confirms their own work).
    translator: bytes
    ts: int
    lang: str
    title: str
    text: str
    #: Uniqueness tags of the persons who confirmed it.
    confirmations: set[bytes] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Comment:
    id: bytes
    #: What it answers: a proposal, amendment, translation, comment, or any
    #: target registered with ``add_target`` (a ballot).
    target: bytes
    scope: bytes
    author: bytes
    ts: int
    lang: str
    text: str


@dataclass(slots=True)
class Reply:
    """A comment in a thread, with the replies shown under it."""

    comment: Comment
    replies: list[Reply] = field(default_factory=list)


class Proposals:
    """Every proposal of the network, with its deliberation."""

    def __init__(self, registry: Registry, groups: Groups) -> None:
        self.registry = registry
        self.groups = groups
        self.proposals: dict[bytes, Proposal] = {}
        self.amendments: dict[bytes, Amendment] = {}
        self._translations: dict[bytes, Translation] = {}
        #: proposal or amendment id -> its translations' ids, in key order.
        self._translations_of: dict[bytes, list[bytes]] = {}
        self.comments: dict[bytes, Comment] = {}
        #: Everything a comment may answer -> its scope.
        self._targets: dict[bytes, bytes] = {}
        #: target -> the comments answering it, in key order.
        self._replies: dict[bytes, list[bytes]] = {}

    # -- queries --

    def proposal(self, proposal_id: bytes) -> Proposal:
        found = self.proposals.get(proposal_id)
        if found is None:
            raise Rejected(Reason.UNKNOWN_PROPOSAL, f"no proposal {proposal_id.hex()}")
        return found

    def translation(self, translation_id: bytes) -> Translation:
        found = self._translations.get(translation_id)
        if found is None:
            raise Rejected(Reason.UNKNOWN_TARGET, f"no translation {translation_id.hex()}")
        return found

    def support_count(self, proposal_id: bytes) -> int:
        """How many persons support the proposal."""
        return len(self.proposal(proposal_id).supporters)

    def supporters_needed(self, proposal_id: bytes) -> int:
        """Support that lets a ballot open on the proposal: the scope charter's
        ``support_pct`` of the scope's members, rounded up, at least one."""
        scope = self.groups.group(self.proposal(proposal_id).scope)
        percent = scope.rules["support_pct"]
        return max(1, -(-percent * self.groups.member_count(scope.id) // 100))

    def require_open(self, proposal_id: bytes, scope: bytes) -> Proposal:
        """The proposal of ``scope``, not yet put to a vote; Rejected
        (``unknown_proposal``, ``proposal_closed``) otherwise. For the
        ballots fold, before it calls ``close``."""
        proposal = self._proposal_in(proposal_id, scope)
        self._require_not_closed(proposal)
        return proposal

    def close(self, proposal_id: bytes, ballot_id: bytes) -> None:
        """A ballot opened on the proposal: from now on amendments and support
        are refused. Rejected if unknown or closed already (nothing changes)."""
        proposal = self.proposal(proposal_id)
        self._require_not_closed(proposal)
        proposal.closed_by = ballot_id

    def add_target(self, target_id: bytes, scope: bytes) -> None:
        """Let comments answer ``target_id`` (a ballot), in ``scope``.

        For other parts of the fold, once the event that makes the target
        applied; an id is registered once (else LocalError: a bug)."""
        if target_id in self._targets:
            raise LocalError(f"{target_id.hex()} is a comment target already")
        self._targets[target_id] = scope

    def translation_ids(self) -> KeysView[bytes]:
        """The ids of every translation held (of proposals and amendments)."""
        return self._translations.keys()

    def is_target(self, target_id: bytes) -> bool:
        return target_id in self._targets

    def translations(self, target_id: bytes) -> dict[str, list[Translation]]:
        """The translations of a proposal or amendment per language (lower
        case, sorted), best first: most confirmations, then earliest key."""
        if target_id not in self.proposals and target_id not in self.amendments:
            raise Rejected(Reason.UNKNOWN_TARGET, f"no proposal or amendment {target_id.hex()}")
        per_lang: dict[str, list[Translation]] = {}
        for translation_id in self._translations_of.get(target_id, []):
            translation = self._translations[translation_id]
            per_lang.setdefault(translation.lang.lower(), []).append(translation)
        return {
            lang: sorted(found, key=lambda t: (-len(t.confirmations), t.ts, t.id))
            for lang, found in sorted(per_lang.items())
        }

    def thread(self, target_id: bytes) -> list[Reply]:
        """The comments answering ``target_id``, each with its replies, all in
        key order; nested at most ``MAX_THREAD_DEPTH`` deep (a deeper reply
        is shown in the list that holds the comment it answers)."""
        if target_id not in self._targets:
            raise Rejected(Reason.UNKNOWN_TARGET, f"no comment target {target_id.hex()}")
        # Every comment of the thread, in key order: a comment sorts after
        # what it answers, so each one's place is known when it is placed.
        found: list[Comment] = []
        pending = [target_id]
        while pending:
            for comment_id in self._replies.get(pending.pop(), []):
                found.append(self.comments[comment_id])
                pending.append(comment_id)
        found.sort(key=lambda c: (c.ts, c.id))
        top: list[Reply] = []
        #: comment id -> (its node, the list holding it, its depth)
        placed: dict[bytes, tuple[Reply, list[Reply], int]] = {}
        for comment in found:
            node = Reply(comment)
            if comment.target == target_id:
                holder, depth = top, 1
            else:
                parent, parent_holder, parent_depth = placed[comment.target]
                if parent_depth < MAX_THREAD_DEPTH:
                    holder, depth = parent.replies, parent_depth + 1
                else:
                    holder, depth = parent_holder, parent_depth
            holder.append(node)
            placed[comment.id] = (node, holder, depth)
        return top

    def describe(self, proposal_id: bytes, at_ms: int) -> dict[str, Any]:
        """A proposal and its deliberation as JSON-ready data (bytes in hex),
        for the CLI and API. ``at_ms``, the time the state is read at, is
        kept for symmetry with Groups.describe: nothing here depends on it
        in this revision."""
        proposal = self.proposal(proposal_id)
        return {
            "id": proposal.id.hex(),
            "scope": proposal.scope.hex(),
            "author": proposal.author.hex(),
            "ts": proposal.ts,
            "lang": proposal.lang,
            "title": proposal.title,
            "text": proposal.text,
            "amendments": [
                {
                    "id": amendment.id.hex(),
                    "author": amendment.author.hex(),
                    "ts": amendment.ts,
                    "lang": amendment.lang,
                    "title": amendment.title,
                    "text": amendment.text,
                    "translations": self._describe_translations(amendment.id),
                    "comments": self.describe_thread(amendment.id),
                }
                for amendment in (self.amendments[a] for a in proposal.amendments)
            ],
            "translations": self._describe_translations(proposal.id),
            "support": len(proposal.supporters),
            "supporters_needed": self.supporters_needed(proposal.id),
            "closed_by": None if proposal.closed_by is None else proposal.closed_by.hex(),
            "comments": self.describe_thread(proposal.id),
        }

    def describe_all(self, at_ms: int) -> list[dict[str, Any]]:
        """Every proposal, sorted by id: the proposals' part of a state snapshot."""
        return [self.describe(pid, at_ms) for pid in sorted(self.proposals)]

    def _describe_translations(self, target_id: bytes) -> dict[str, list[dict[str, Any]]]:
        return {
            lang: [
                {
                    "id": t.id.hex(),
                    "author": t.author.hex(),
                    "ts": t.ts,
                    "lang": t.lang,
                    "title": t.title,
                    "text": t.text,
                    "confirmations": len(t.confirmations),
                    "comments": self.describe_thread(t.id),
                }
                for t in found
            ]
            for lang, found in self.translations(target_id).items()
        }

    def describe_thread(self, target_id: bytes) -> list[dict[str, Any]]:
        """``thread`` as JSON-ready data: each comment with its ``target``
        (what it answers, also when shown flattened) and its ``replies``."""

        def one(reply: Reply) -> dict[str, Any]:
            c = reply.comment
            return {
                "id": c.id.hex(),
                "target": c.target.hex(),
                "author": c.author.hex(),
                "ts": c.ts,
                "lang": c.lang,
                "text": c.text,
                "replies": [one(r) for r in reply.replies],  # at most MAX_THREAD_DEPTH deep
            }

        return [one(reply) for reply in self.thread(target_id)]

    # -- the fold --

    def _proposal_in(self, proposal_id: bytes, scope: bytes) -> Proposal:
        """A proposal is named within its scope: seen from another group, it
        is unknown."""
        proposal = self.proposals.get(proposal_id)
        if proposal is None or proposal.scope != scope:
            raise Rejected(
                Reason.UNKNOWN_PROPOSAL, f"no proposal {proposal_id.hex()} in {scope.hex()}"
            )
        return proposal

    def _require_not_closed(self, proposal: Proposal) -> None:
        if proposal.closed_by is not None:
            raise Rejected(
                Reason.PROPOSAL_CLOSED,
                f"proposal {proposal.id.hex()} was put to ballot {proposal.closed_by.hex()}",
            )

    def _require_participant(self, event: SignedEvent) -> bytes:
        """The author is certified at ``ts`` and in the scope's subtree; their
        uniqueness tag."""
        tag = self.registry.require_certified(event.author, event.ts).tag
        if not self.groups.in_subtree(event.author, event.group):
            raise Rejected(
                Reason.NOT_MEMBER,
                f"{event.author.hex()} is not a member of group {event.group.hex()}",
            )
        return tag

    def _register(self, target_id: bytes, scope: bytes) -> None:
        self._targets[target_id] = scope

    def apply_proposal(self, event: SignedEvent) -> None:
        body = event.event.body
        self.groups.group(event.group)
        self._require_participant(event)
        self.proposals[event.id] = Proposal(
            id=event.id,
            scope=event.group,
            author=event.author,
            ts=event.ts,
            lang=body["lang"],
            title=body["title"],
            text=body["text"],
        )
        self._register(event.id, event.group)

    def apply_amend(self, event: SignedEvent) -> None:
        body = event.event.body
        proposal = self._proposal_in(body["proposal"], event.group)
        self._require_participant(event)
        self._require_not_closed(proposal)
        self.amendments[event.id] = Amendment(
            id=event.id,
            proposal=proposal.id,
            scope=event.group,
            author=event.author,
            ts=event.ts,
            lang=body["lang"],
            title=body["title"],
            text=body["text"],
        )
        proposal.amendments.append(event.id)
        self._register(event.id, event.group)

    def apply_translate(self, event: SignedEvent) -> None:
        body = event.event.body
        target_id = body["target"]
        original = self.proposals.get(target_id) or self.amendments.get(target_id)
        if original is None or original.scope != event.group:
            raise Rejected(
                Reason.UNKNOWN_TARGET,
                f"no proposal or amendment {target_id.hex()} in {event.group.hex()}",
            )
        tag = self._require_participant(event)
        if same_language(body["lang"], original.lang):
            raise Rejected(
                Reason.UNKNOWN_TARGET,
                f"{target_id.hex()} is written in {original.lang!r}: nothing to translate",
            )
        self._translations[event.id] = Translation(
            id=event.id,
            target=target_id,
            scope=event.group,
            author=event.author,
            translator=tag,
            ts=event.ts,
            lang=body["lang"],
            title=body["title"],
            text=body["text"],
        )
        self._translations_of.setdefault(target_id, []).append(event.id)
        self._register(event.id, event.group)

    def apply_confirm(self, event: SignedEvent) -> None:
        translation_id = event.event.body["translation"]
        translation = self._translations.get(translation_id)
        if translation is None or translation.scope != event.group:
            raise Rejected(
                Reason.UNKNOWN_TARGET,
                f"no translation {translation_id.hex()} in {event.group.hex()}",
            )
        tag = self._require_participant(event)
        if tag == translation.translator:
            raise Rejected(Reason.SELF_CONFIRMATION, "a translator cannot confirm their own work")
        if tag in translation.confirmations:
            raise Rejected(
                Reason.DUPLICATE_CONFIRMATION, "this person confirmed this translation already"
            )
        translation.confirmations.add(tag)

    def apply_comment(self, event: SignedEvent) -> None:
        body = event.event.body
        target_id = body["target"]
        if self._targets.get(target_id) != event.group:
            raise Rejected(
                Reason.UNKNOWN_TARGET,
                f"nothing to comment {target_id.hex()} in {event.group.hex()}",
            )
        self._require_participant(event)
        self.comments[event.id] = Comment(
            id=event.id,
            target=target_id,
            scope=event.group,
            author=event.author,
            ts=event.ts,
            lang=body["lang"],
            text=body["text"],
        )
        self._replies.setdefault(target_id, []).append(event.id)
        self._register(event.id, event.group)

    def apply_support(self, event: SignedEvent) -> None:
        proposal = self._proposal_in(event.event.body["proposal"], event.group)
        tag = self._require_participant(event)
        self._require_not_closed(proposal)
        if tag in proposal.supporters:
            raise Rejected(Reason.DUPLICATE_SUPPORT, "this person supports the proposal already")
        proposal.supporters.add(tag)
