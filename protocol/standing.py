"""Standing: who may put a governance event on the network at all.

Theory of operation
-------------------
The state fold (protocol/state.py) refuses an event that breaks a rule but
keeps it stored, so that every node converges on the same events. Without
a further rule, that would let any key on earth fill every node's store
with refused certificates and admissions. So before a governance event is
stored, its author must show *standing*, by reference, from the content of
events it names in ``refs``:

- a registrar's kinds (``registrar.change``, ``cert.*``): the author is a
  registrar of the genesis document, or a ref is a ``registrar.change``
  whose ``add`` names the author;
- a ``vote``: its ring signature over the ring it refs (checked by
  ``protocol.ballots.check_vote``: a vote must not name its voter), and so
  a protected ``report`` (``protocol.reports.check_report``: nor may a
  report name its reporter);
- a ``report.followup``: a ref is its report, whose receipt key is the
  author (``protocol.reports.check_followup``);
- every other governance kind: a ref is a ``cert.issue`` or
  ``cert.replace`` whose ``member`` is the author.

Standing reads only the *content* of referenced events, never whether the
fold applied them, so it is a property of the event and its refs alone: the
same on every node, forever (refs are immutable and, being held before the
event is checked, present). It is deliberately weaker than the fold's
rules (a revoked member still has standing; the fold refuses their acts):
it only has to make sure that what is stored was written by someone a
registrar once vouched for. Checked after ``missing_refs``, so an event
whose evidence has not arrived yet is held, not rejected.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent
from protocol.kinds import GOVERNANCE_KINDS
from protocol.reports import check_followup

REGISTRAR_KINDS = frozenset({"registrar.change", "cert.issue", "cert.replace", "cert.revoke"})
CERTIFICATE_KINDS = frozenset({"cert.issue", "cert.replace"})
#: Kinds whose standing is a ring signature, checked where the costly
#: verification can be spread over threads (storage/state.py).
RING_SIGNED_KINDS = frozenset({"vote", "report"})


def check_standing(
    event: SignedEvent,
    referenced: Mapping[bytes, SignedEvent],
    founding_registrars: Collection[bytes],
) -> None:
    """Raise Rejected(no_standing) unless ``event``'s author has standing.

    ``referenced`` maps ids to events the node holds (at least the event's
    refs); ``founding_registrars`` are the genesis document's. Events of
    other kinds need no standing.
    """
    if event.kind not in GOVERNANCE_KINDS or event.kind in RING_SIGNED_KINDS:
        return  # their standing is their ring signature, checked apart
    if event.kind == "report.followup":
        check_followup(event, referenced.get(event.event.body["report"]))
        return
    author = event.author
    refs = [referenced[ref] for ref in event.refs if ref in referenced]
    if event.kind in REGISTRAR_KINDS:
        if author in founding_registrars or any(
            ref.kind == "registrar.change" and author in ref.event.body["add"] for ref in refs
        ):
            return
        raise Rejected(
            Reason.NO_STANDING,
            "a registrar's event is by a genesis registrar or refs the change that added it",
        )
    if any(ref.kind in CERTIFICATE_KINDS and ref.event.body["member"] == author for ref in refs):
        return
    raise Rejected(Reason.NO_STANDING, "a member's event refs a certificate of its author")
