"""The hash chains: an intact ledger verifies; any edit, deletion or reordering is named."""

import dataclasses
import hashlib
import json
import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger.domain import chain, verifier
from tests.unit.ledger.stories import Story

RECORDED = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def _ledger(stories: int = 3) -> list[chain.Entry]:
    pending = [
        chain.Unsealed(
            event_id=event.id,
            incident_id=event.data.incident_id,
            type=event.type,
            source=event.source,
            occurred_at=event.data.occurred_at,
            payload=event.data.model_dump(mode="json"),
        )
        for _ in range(stories)
        for event in Story().closed_loop().events
    ]
    first = chain.seal(pending[:7], head=chain.Head(), incident_heads={}, recorded_at=RECORDED)
    heads = {}
    for entry in first:
        heads[entry.incident_id] = chain.Head(entry.incident_index, entry.incident_hash)
    rest = chain.seal(
        pending[7:],
        head=chain.Head(first[-1].seq, first[-1].hash),
        incident_heads=heads,
        recorded_at=RECORDED,
    )
    return first + rest


def test_an_untouched_ledger_verifies_in_both_chains() -> None:
    entries = _ledger()
    result = verifier.Verifier().check_all(entries)
    assert result.ok and result.breaks_found == 0
    assert result.entries_checked == len(entries) == 18
    assert result.head == chain.Head(18, entries[-1].hash)


def test_sealing_numbers_entries_globally_and_per_incident() -> None:
    entries = _ledger()
    assert [entry.seq for entry in entries] == list(range(1, 19))
    assert [entry.incident_index for entry in entries[:6]] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == entries[0].incident_prev_hash == chain.GENESIS
    assert entries[1].prev_hash == entries[0].hash
    assert entries[6].incident_prev_hash == chain.GENESIS  # the second incident's first entry


def test_an_edited_payload_is_named_as_altered() -> None:
    entries = _ledger()
    edited = dict(entries[4].payload, result="never happened")
    entries[4] = dataclasses.replace(entries[4], payload=edited)
    result = verifier.Verifier().check_all(entries)
    assert not result.ok
    first = result.first_break
    assert first is not None
    assert (first.seq, first.event_id, first.chain) == (5, entries[4].event_id, verifier.GLOBAL)
    assert "altered" in first.reason
    assert {b.chain for b in result.breaks} == {verifier.GLOBAL, verifier.INCIDENT}
    assert {b.seq for b in result.breaks} == {5}


def test_a_deleted_entry_is_named_by_the_entry_after_the_gap() -> None:
    entries = _ledger()
    del entries[9]
    first = verifier.Verifier().check_all(entries).first_break
    assert first is not None
    assert first.seq == 11 and first.chain == verifier.GLOBAL
    assert "seq 10 missing" in first.reason and "deleted" in first.reason


def test_two_swapped_entries_are_named_at_the_first_swapped_place() -> None:
    entries = _ledger()
    a, b = entries[3], entries[12]
    entries[3] = dataclasses.replace(b, seq=a.seq)
    entries[12] = dataclasses.replace(a, seq=b.seq)
    first = verifier.Verifier().check_all(entries).first_break
    assert first is not None
    assert (first.seq, first.event_id) == (4, b.event_id)
    assert "reordered" in first.reason


def test_a_rewritten_chain_still_differs_from_a_published_anchor() -> None:
    entries = _ledger()
    anchor = chain.Head(entries[-1].seq, entries[-1].hash)
    forged = chain.seal(
        [
            chain.Unsealed(e.event_id, e.incident_id, e.type, e.source, e.occurred_at, e.payload)
            for e in entries[:-1]
        ]
        + [
            chain.Unsealed(
                entries[-1].event_id,
                entries[-1].incident_id,
                entries[-1].type,
                entries[-1].source,
                entries[-1].occurred_at,
                {**entries[-1].payload, "closed_by": "someone else"},
            )
        ],
        head=chain.Head(),
        incident_heads={},
        recorded_at=RECORDED,
    )
    assert verifier.Verifier().check_all(forged).ok  # a consistent rewrite passes on its own...
    result = verifier.Verifier(anchor=anchor).check_all(forged)
    assert not result.ok and "anchor" in result.breaks[0].reason  # ...but not against the anchor


def test_a_cut_tail_is_caught_by_the_published_anchor() -> None:
    entries = _ledger()
    anchor = chain.Head(entries[-1].seq, entries[-1].hash)
    result = verifier.Verifier(anchor=anchor).check_all(entries[:-2])
    assert not result.ok
    assert result.breaks[-1].seq == 18 and "end were deleted" in result.breaks[-1].reason


def test_canonical_json_ignores_key_order_and_escapes_unicode() -> None:
    assert chain.canonical_json({"b": 1, "a": "网格"}) == chain.canonical_json(
        {"a": "网格", "b": 1}
    )
    assert chain.canonical_json({"a": "网格"}) == b'{"a":"\\u7f51\\u683c"}'


def test_the_hash_covers_the_time_as_an_instant_not_its_offset() -> None:
    incident = uuid.uuid4()
    fields = {
        "seq": 1,
        "event_id": "e",
        "incident_id": incident,
        "incident_index": 1,
        "type": "t",
        "source": "s",
        "recorded_at": RECORDED,
        "payload": {},
    }
    utc = chain.body(**fields, occurred_at=datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    naive = chain.body(**fields, occurred_at=datetime(2026, 11, 2, 1, 0))
    assert chain.canonical_json(utc) == chain.canonical_json(naive)


@settings(max_examples=200, deadline=None)
@given(
    event_id=st.text(max_size=40),
    source=st.text(max_size=20),
    payload=st.dictionaries(
        st.text(max_size=10),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
        max_size=6,
    ),
)
def test_the_fast_content_is_the_canonical_json_of_the_fields(
    event_id: str, source: str, payload: dict[str, object]
) -> None:
    fields = {
        "seq": 7,
        "event_id": event_id,
        "incident_id": uuid.uuid4(),
        "incident_index": 3,
        "type": "gridloop.incident.reported.v1",
        "source": source,
        "occurred_at": datetime(2026, 11, 2, 1, 0, 0, 123456, tzinfo=UTC),
        "recorded_at": RECORDED,
    }
    slow = chain.canonical_json(chain.body(**fields, payload=payload))
    fast = chain.content_of(**fields, payload_json=chain.canonical_json(payload).decode())
    assert fast == slow


@given(content=st.binary(max_size=2000), first=st.text(max_size=64), second=st.text(max_size=64))
def test_hashing_the_content_once_links_it_as_hashing_it_per_chain(
    content: bytes, first: str, second: str
) -> None:
    assert chain.link_hashes(content, (first, second)) == (
        chain.link_hash(content, first),
        chain.link_hash(content, second),
    )


def test_sealing_gives_the_hashes_of_the_published_definition() -> None:
    entries = _ledger(stories=1)
    previous = chain.GENESIS
    for entry in entries:
        body = chain.body(
            seq=entry.seq,
            event_id=entry.event_id,
            incident_id=entry.incident_id,
            incident_index=entry.incident_index,
            type=entry.type,
            source=entry.source,
            occurred_at=entry.occurred_at,
            recorded_at=entry.recorded_at,
            payload=entry.payload,
        )
        content = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        assert entry.hash == hashlib.sha256(content + b"\n" + previous.encode()).hexdigest()
        previous = entry.hash
