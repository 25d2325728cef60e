"""The pure chain: every kind of tamper is detected and located."""

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from audit import chain

KEY = "test-key"


def make_chain(n: int) -> list[chain.StoredEvent]:
    events, prev = [], chain.GENESIS
    for seq in range(1, n + 1):
        body = chain.canonical_body(
            {"uuid": f"u{seq}", "action": "thing.done", "payload": {"n": seq}}
        )
        digest = chain.link_hash(prev, body)
        events.append(chain.StoredEvent(seq, f"u{seq}", prev, digest, body))
        prev = digest
    return events


def rows(events):
    return [(e.seq, e.prev_hash, e.hash, e.body) for e in events]


def problems_of(events):
    problems, _, _ = chain.verify_links(rows(events))
    if any(p.kind == "link" for p in problems):
        problems = [p for p in problems if p.kind == "changed"] + chain.explain_breaks(events)
    uuid_at = {e.seq: e.uuid for e in events}
    return {(p.kind, p.uuid or uuid_at[p.seq]) for p in problems}


def test_an_intact_chain_has_no_problems():
    problems, count, head = chain.verify_links(rows(make_chain(20)))
    assert problems == [] and count == 20 and head == make_chain(20)[-1].hash


def test_it_detects_and_locates_a_changed_event():
    events = make_chain(10)
    events[3] = replace(events[3], body=events[3].body.replace('"n":4', '"n":40'))
    assert problems_of(events) == {("changed", "u4")}


def test_it_detects_an_event_rewritten_with_a_fresh_hash():
    events = make_chain(10)
    body = events[3].body.replace('"n":4', '"n":40')
    events[3] = replace(events[3], body=body, hash=chain.link_hash(events[3].prev_hash, body))
    assert problems_of(events) == {("changed", "u4")}


def test_it_detects_a_missing_event_and_names_the_next_one():
    events = make_chain(10)
    del events[4]
    assert problems_of(events) == {("missing", "u6")}


def test_it_detects_a_missing_first_event():
    events = make_chain(5)[1:]
    assert problems_of(events) == {("missing", "u2")}


def test_it_detects_an_inserted_event():
    events = make_chain(10)
    forged_body = chain.canonical_body({"uuid": "forged", "action": "thing.done", "payload": {}})
    forged = chain.StoredEvent(
        4, "forged", events[2].hash, chain.link_hash(events[2].hash, forged_body), forged_body
    )
    renumbered = [replace(e, seq=e.seq + 1) for e in events[3:]]
    assert problems_of(events[:3] + [forged] + renumbered) == {("inserted", "forged")}


def test_it_detects_reordered_events():
    events = make_chain(10)
    events[2], events[6] = replace(events[6], seq=3), replace(events[2], seq=7)
    assert problems_of(events) == {("reordered", "u7"), ("reordered", "u3")}


def test_it_detects_an_adjacent_swap_as_one_reordered_event():
    events = make_chain(10)
    events[4], events[5] = replace(events[5], seq=5), replace(events[4], seq=6)
    found = problems_of(events)
    assert len(found) == 1 and next(iter(found))[0] == "reordered"


def test_a_cut_tail_is_caught_by_a_signed_checkpoint():
    events = make_chain(10)
    cp = chain.Checkpoint(10, events[-1].hash, "2026-01-01T00:00:00.000000Z", "")
    cp = replace(cp, signature=chain.sign_checkpoint(KEY, cp.size, cp.head_hash, cp.signed_at))
    kept = events[:7]
    hashes = {e.seq: e.hash for e in kept}
    problems = chain.check_checkpoints(KEY, [cp], hashes, size=7)
    assert [p.kind for p in problems] == ["tail-cut"]
    assert chain.check_checkpoints(KEY, [cp], {e.seq: e.hash for e in events}, size=10) == []


def test_a_forged_checkpoint_is_refused():
    cp = chain.Checkpoint(3, "ab" * 32, "2026-01-01T00:00:00.000000Z", "00" * 32)
    problems = chain.check_checkpoints(KEY, [cp], {3: "ab" * 32}, size=3)
    assert [p.kind for p in problems] == ["bad-checkpoint"]


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=3, max_value=30),
    kind=st.sampled_from(["change", "delete", "swap", "insert"]),
    data=st.data(),
)
def test_any_single_tamper_is_detected(n, kind, data):
    events = make_chain(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 2))
    if kind == "change":
        events[i] = replace(events[i], body=events[i].body + " ")
    elif kind == "delete":
        del events[i]
    elif kind == "swap":
        j = data.draw(st.integers(min_value=i + 1, max_value=n - 1))
        events[i], events[j] = (
            replace(events[j], seq=events[i].seq),
            replace(events[i], seq=events[j].seq),
        )
    else:
        body = chain.canonical_body({"uuid": "x"})
        forged = chain.StoredEvent(
            i + 1, "x", events[i - 1].hash if i else chain.GENESIS, "f" * 64, body
        )
        events = events[:i] + [forged] + [replace(e, seq=e.seq + 1) for e in events[i:]]
    assert problems_of(events), f"{kind} at {i} went unnoticed"
