"""specs/vectors/sync.json: fingerprints, sessions message by message, and
invalid messages; the committed file is what the builder makes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sync_vector_builder

from protocol.errors import Rejected
from protocol.fingerprint import fingerprint
from protocol.reconcile import Reconciler, SortedKeys, decode
from protocol.sync_frames import decode_frame, encode_frame

VECTORS: dict[str, Any] = json.loads(sync_vector_builder.VECTORS_PATH.read_text("utf-8"))


def test_committed_vectors_are_what_the_builder_makes() -> None:
    assert sync_vector_builder.VECTORS_PATH.read_text("utf-8") == sync_vector_builder.render()


@pytest.mark.parametrize("vector", VECTORS["fingerprints"])
def test_fingerprints(vector: dict[str, Any]) -> None:
    ids = [bytes.fromhex(i) for i in vector["ids_hex"]]
    assert fingerprint(ids).hex() == vector["fingerprint_hex"]


def _keys(numbers: list[list[int]]) -> SortedKeys:
    return SortedKeys(list(sync_vector_builder.keys_of(numbers)))


@pytest.mark.parametrize("vector", VECTORS["sessions"], ids=lambda v: v["name"])
def test_sessions_message_by_message(vector: dict[str, Any]) -> None:
    """Each side answers the other's recorded message with the next one."""
    messages = [bytes.fromhex(m) for m in vector["messages_hex"]]
    mine, theirs = _keys(vector["initiator_numbers"]), _keys(vector["responder_numbers"])
    initiator = Reconciler(initiator=True)
    responder = Reconciler(initiator=False)
    assert initiator.initiate(mine) == messages[0]
    for index in range(0, len(messages), 2):
        assert responder.reconcile(theirs, messages[index]) == messages[index + 1]
        following = initiator.reconcile(mine, messages[index + 1])
        if index + 2 < len(messages):
            assert following == messages[index + 2]
        else:
            assert following is None
    assert sorted(i.hex() for i in initiator.have) == vector["have_hex"]
    assert sorted(i.hex() for i in initiator.need) == vector["need_hex"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid(vector: dict[str, Any]) -> None:
    with pytest.raises(Rejected) as excinfo:
        decode(bytes.fromhex(vector["message_hex"]))
    assert excinfo.value.reason.value == vector["reason"]


def test_a_session_answers_at_most_max_rounds_messages() -> None:
    limit = VECTORS["rounds_limit"]
    keys = _keys([[0, 10, 1]])
    responder = Reconciler(initiator=False)
    opening = Reconciler(initiator=True).initiate(_keys([[0, 11, 1]]))
    for _ in range(limit["max_rounds"]):
        responder.reconcile(keys, opening)
    with pytest.raises(Rejected) as excinfo:
        responder.reconcile(keys, opening)
    assert excinfo.value.reason.value == limit["reason"]


@pytest.mark.parametrize("vector", VECTORS["frames"]["valid"], ids=lambda v: v["name"])
def test_valid_frames(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["frame_hex"])
    assert encode_frame(decode_frame(raw)) == raw


@pytest.mark.parametrize("vector", VECTORS["frames"]["invalid"], ids=lambda v: v["name"])
def test_invalid_frames(vector: dict[str, Any]) -> None:
    with pytest.raises(Rejected) as excinfo:
        decode_frame(bytes.fromhex(vector["frame_hex"]))
    assert excinfo.value.reason.value == vector["reason"]
