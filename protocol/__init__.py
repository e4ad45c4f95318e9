"""ayllu's protocol, sans-I/O: canonical encoding, events, keys, validation.

Nothing here reads a clock, draws randomness, or touches a file or socket:
time and random bytes are passed in, so every function is deterministic.
"""

from protocol.errors import Action, AylluError, LocalError, Reason, Rejected
from protocol.event import Event, SignedEvent, parse_event, sign, verify_signature
from protocol.validation import ACCEPTED, StateView, Verdict, validate, validate_bytes

__all__ = [
    "ACCEPTED",
    "Action",
    "AylluError",
    "Event",
    "LocalError",
    "Reason",
    "Rejected",
    "SignedEvent",
    "StateView",
    "Verdict",
    "parse_event",
    "sign",
    "validate",
    "validate_bytes",
    "verify_signature",
]
