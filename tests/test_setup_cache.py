"""The setup inspection's cache (issue 15): kept in the store so a terminal run reuses it, bound to the
settings it was made under, expired after SESBOT_SETUP_CACHE_SECONDS, forgotten by `setup --apply`."""

from __future__ import annotations

from datetime import timedelta

from bot.deps import Deps
from bot.setup import WANTED_TYPES, inspect, inspect_cached, inspect_queue
from bot.setup.inspection import forget_cached
from bot.setup.model import inspection_from_json, inspection_to_json
from tests.conftest import REGION, Clock
from tests.test_setup import app_configuration_set, route_topic_to_queue


def lists(aws_peer) -> int:
    return len(aws_peer.calls_to("ListConfigurationSets"))


def world(aws_peer, settings) -> None:
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue")
    app_configuration_set(aws_peer, topic_arn, list(WANTED_TYPES))
    settings.sqs_queue_url = queue_url


def test_an_inspection_reads_back_from_json_as_it_was(aws_peer, deps, settings):
    world(aws_peer, settings)
    insp = inspect(deps, REGION, queue=inspect_queue(deps), permissions=True)
    assert insp.topics and insp.config_sets and insp.queue is not None
    assert inspection_from_json(inspection_to_json(insp)) == insp


def test_a_second_process_reuses_the_stored_inspection(aws_peer, deps, settings, store):
    world(aws_peer, settings)
    first = inspect_cached(deps, REGION)
    assert lists(aws_peer) == 1
    later_run = Deps.build(settings, store=store)  # a new process: nothing in memory, the same database
    again = inspect_cached(later_run, REGION)
    assert lists(aws_peer) == 1
    assert again.coverage().keys() == first.coverage().keys()
    assert {t: c.scope for t, c in again.coverage().items()} == {t: c.scope for t, c in first.coverage().items()}


def test_the_stored_inspection_expires(aws_peer, deps, settings, store):
    world(aws_peer, settings)
    clock = Clock(deps.now())
    timed = Deps.build(settings, store=store, clock=clock)
    inspect_cached(timed, REGION)
    clock.tick(minutes=4)
    inspect_cached(Deps.build(settings, store=store, clock=clock), REGION)
    assert lists(aws_peer) == 1
    clock.now += timedelta(minutes=2)  # past the default 300 s
    inspect_cached(Deps.build(settings, store=store, clock=clock), REGION)
    assert lists(aws_peer) == 2


def test_other_settings_do_not_reuse_it(aws_peer, deps, settings, store):
    world(aws_peer, settings)
    inspect_cached(deps, REGION)
    settings.sqs_queue_url = settings.sqs_queue_url + "-other"
    inspect_cached(Deps.build(settings, store=store), REGION)
    assert lists(aws_peer) == 2


def test_forgetting_clears_memory_and_store(aws_peer, deps, settings, store):
    world(aws_peer, settings)
    inspect_cached(deps, REGION)
    forget_cached(deps)
    assert store.query("SELECT key FROM kv WHERE key LIKE 'setup.inspection.%'") == []
    inspect_cached(deps, REGION)
    assert lists(aws_peer) == 2


def test_zero_seconds_turns_the_cache_off(aws_peer, deps, settings):
    world(aws_peer, settings)
    settings.setup_cache_seconds = 0
    inspect_cached(deps, REGION)
    inspect_cached(deps, REGION)
    assert lists(aws_peer) == 2


def test_a_damaged_stored_inspection_is_asked_again(aws_peer, deps, settings, store):
    world(aws_peer, settings)
    inspect_cached(deps, REGION)
    with store.transaction() as db:
        db.conn.execute(
            "UPDATE kv SET value = '{\"at\": 1e18, \"inspection\": {}}' WHERE key LIKE 'setup.inspection.%'"
        )
    inspect_cached(Deps.build(settings, store=store), REGION)
    assert lists(aws_peer) == 2
