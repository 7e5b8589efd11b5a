"""The value codec round-trips any JSON, the dict fallback keeps the counter rules, the figures are recorded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sessionkeeper import codec, stats
from sessionkeeper.counters import SessionDictCounters
from sessionkeeper.exceptions import CounterLimitError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=8) | st.dictionaries(st.text(max_size=20), children, max_size=8),
    max_leaves=40,
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(value=json_values, threshold=st.sampled_from([1, 64, 1024]))
def test_any_json_value_reads_back_unchanged_compressed_or_not(value, threshold):
    stored, raw_size = codec.encode(value, threshold)
    assert stored[:1] in (codec.PLAIN, codec.COMPRESSED, codec.STRING, codec.HEX, codec.KNOWN)
    assert codec.decode(stored, 65536) == value
    if stored[:1] == codec.COMPRESSED:
        assert raw_size > threshold and len(stored) <= raw_size


@pytest.mark.parametrize("stored", [b"", b"q{}", b"k9", b"j{not json", b"z\x28\xb5\x2f\xfd garbage", b"\x80\x04K\x01."])
def test_anything_we_did_not_write_is_refused_as_corrupt(stored):
    with pytest.raises(codec.CorruptValue):
        codec.decode(stored, 65536)


def test_the_dict_fallback_keeps_the_same_counter_rules_as_the_engine():
    session: dict = {}
    cart = SessionDictCounters(session, "cart")
    assert cart.add("tea", 2, 5) == 2
    with pytest.raises(CounterLimitError, match="must stay between 0 and 5"):
        cart.add("tea", 4, 5)
    with pytest.raises(CounterLimitError):
        cart.add("tea", -3, 5)
    assert cart.add("tea", -2, 5) == 0
    assert cart.items() == {}
    cart.set("cake", 3)
    cart.set("cake", 0)
    assert cart.items() == {}


def test_the_engine_records_its_figures_for_the_observability_layer(store):
    session = store()
    session["notes"] = "x" * 4000
    session.save()
    again = store(session.session_key)
    assert again["notes"]
    again["theme"] = "dark"
    again.save()
    store("no-such-session-key-12345").load()
    again.delete()
    figures = stats.snapshot()
    events = figures["events"]
    assert events["create"] == 1 and events["save"] == 1 and events["delete"] == 1
    assert events["load"] == 2 and events["hit"] == 1 and events["miss"] == 1
    assert figures["latency"]["load"]["count"] == 2
    assert figures["latency"]["save"]["count"] == 2
    assert figures["compression_ratio"] > 5
