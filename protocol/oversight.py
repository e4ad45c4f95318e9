"""Oversight groups: who may record a conviction against a group's role
holders and, later, read the protected reports about them
(specs/accountability.md section 4).

A group names its oversight group with ``oversight.appoint``, by whoever
acts for it; a group that names none is overseen by its parent's, and so
on up, so that the root's appointment covers every group that has not
made its own. A group cannot oversee itself.
"""

from __future__ import annotations

from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent
from protocol.groups import Groups


class Oversight:
    """The appointments, as of the events folded so far."""

    def __init__(self, groups: Groups) -> None:
        self.groups = groups
        #: group -> its appointed oversight group (the newest appointment).
        self.appointed: dict[bytes, bytes] = {}

    def oversight_of(self, group_id: bytes) -> bytes | None:
        """The group's own appointment, else its nearest ancestor's."""
        for group in (group_id, *self.groups.ancestors(group_id)):
            found = self.appointed.get(group)
            if found is not None:
                return found
        return None

    def apply_appoint(self, event: SignedEvent) -> None:
        overseer = event.event.body["oversight"]
        self.groups.group(event.group)
        self.groups.require_acting(event.group, event)
        self.groups.group(overseer)
        if overseer == event.group:
            raise Rejected(Reason.BAD_OVERSIGHT, "a group cannot oversee itself")
        self.appointed[event.group] = overseer
