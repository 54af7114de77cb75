"""The event parser against hostile and broken input (hypothesis): it never raises, every document
ends up stored, skipped or quarantined, and a broken document never leaves half of itself behind."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.events import parse
from bot.ingest import ingest_documents
from bot.store import Store

SAMPLES = sorted((Path(__file__).parent / "data" / "ses-notifications").glob("*.json"))
DOCS = [json.loads(p.read_text()) for p in SAMPLES]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def paths(value, prefix=()):
    """Every (path) into a JSON value, to pick one to break."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*prefix, i))


def holds_nothing(value) -> bool:
    """An array of (arrays of) nothing: a file or batch with no documents in it."""
    return isinstance(value, list) and all(holds_nothing(v) for v in value)


def accounted(extracted, value=None) -> bool:
    """Something was stored, skipped with a reason or quarantined; only an empty array holds nothing."""
    if holds_nothing(value):
        return not (extracted.events or extracted.counts or extracted.quarantined)
    return bool(extracted.events or extracted.counts or extracted.skipped or extracted.quarantined)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_any_bytes_are_parsed_skipped_or_quarantined_never_raised(raw):
    assert accounted(parse(raw))


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_is_parsed_skipped_or_quarantined_never_raised(value):
    assert accounted(parse(json.dumps(value)), value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_real_notification_with_one_field_broken_is_never_an_exception(data):
    doc = copy.deepcopy(data.draw(st.sampled_from(DOCS)))
    where = data.draw(st.sampled_from(list(paths(doc))[1:]))
    replacement = data.draw(json_values)
    node = doc
    for key in where[:-1]:
        node = node[key]
    if data.draw(st.booleans()) and isinstance(node, dict):
        del node[where[-1]]
    else:
        node[where[-1]] = replacement
    assert accounted(parse(json.dumps(doc)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(json_values, min_size=1, max_size=5))
def test_a_batch_of_garbage_stores_no_event_and_quarantines_what_it_cannot_read(tmp_path_factory, garbage):
    store = Store(str(tmp_path_factory.mktemp("fuzz") / "s.db"))
    try:
        docs = [
            json.dumps(g)
            for g in garbage
            if not (isinstance(g, dict) and ("eventType" in g or "notificationType" in g or "Type" in g))
        ]
        result = ingest_documents(store, docs, origin="fuzz")
        assert store.db["events"].count == 0
        assert result.ingested == 0
        assert result.quarantined + sum(result.skipped.values()) >= len(
            [d for d in docs if not holds_nothing(json.loads(d))]
        )
    finally:
        store.close()
