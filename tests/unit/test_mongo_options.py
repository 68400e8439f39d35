"""Mapping overrides from the CLI/config, and which documents a checkpoint lets a re-run skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowrag.errors import ConfigError
from flowrag.graph.embedded import EmbeddedStore
from flowrag.ingest.monitoring import CollectionCheckpoint, check_overrides, parse_overrides
from flowrag.schema import NodeLabel, make_uid


def test_overrides_parse_per_collection() -> None:
    parsed = parse_overrides(["jobs.pipeline=job.name", "jobs.host=", "my.coll.status=state"])
    assert parsed == {"jobs": {"pipeline": "job.name", "host": None}, "my.coll": {"status": "state"}}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("jobs.pipeline", "bad mapping override"),  # no '='
        ("pipeline=job", "bad mapping override"),  # no collection
        ("jobs.colour=x", "unknown concept 'colour'"),
    ],
)
def test_bad_overrides_are_clear_errors(item: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_overrides([item])


def test_config_overrides_are_checked() -> None:
    check_overrides({"runs": {"pipeline": "flow"}})
    with pytest.raises(ConfigError, match=r"unknown mapping concept.*colour.*for collection runs"):
        check_overrides({"runs": {"colour": "x"}})


async def test_checkpoint_trusts_only_finished_batches(tmp_path: Path) -> None:
    store = EmbeddedStore.open(tmp_path / "g")
    await store.migrate(8)
    cp = CollectionCheckpoint(store, "k", "runs", "db", {})
    assert not cp.trusted("a")  # nothing written yet
    await cp.before("a", "c")
    await cp.after("a", "c")
    await cp.before("d", "f")  # … and the run dies here
    found = await store.get_nodes([make_uid(NodeLabel.CHECKPOINT, "k")])
    again = CollectionCheckpoint(store, "k", "runs", "db", dict(found[0].props))
    assert again.last_id == "c"
    assert again.trusted("b") and not again.dirty("b")
    assert again.dirty("e") and not again.trusted("e")
    assert not again.trusted("z")  # past the checkpoint
    assert not again.trusted(5)  # an _id of another type never compares: extracted again
    await again.before("d", "e")  # a smaller batch does not cover the whole dirty range…
    await again.after("d", "e")
    assert again.dirty("f")
    await again.before("d", "h")
    await again.after("d", "h")  # …a covering one clears it
    assert not again.dirty("f") and again.trusted("f") and again.last_id == "h"
    await again.after("a", "b")  # a full pass restarting from the beginning keeps the furthest point
    assert again.last_id == "h"
    await store.close()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("EN ÉCHEC", "FAILED"),
        ("échoué", "FAILED"),
        ("KO", "FAILED"),
        ("Failed (exit 3)", "FAILED"),
        ("TIMED_OUT", "FAILED"),
        ("KILLED", "FAILED"),
        ("succès", "SUCCESS"),
        ("Terminé", "SUCCESS"),
        ("completed with errors", "WARNING"),
        ("en cours", "RUNNING"),
        ("annulé", "CANCELLED"),
        ("SKIPPED", "SKIPPED"),
        ("0", "SUCCESS"),
        (0, "SUCCESS"),
        ("4", "FAILED"),
        (12, "FAILED"),
        ("something else", "SOMETHING ELSE"),
        # the states of the schedulers a bank runs (Control-M, Airflow, Azure Data Factory, YARN)
        ("Ended OK", "SUCCESS"),
        ("Ended Not OK", "FAILED"),
        ("unsuccessful", "FAILED"),
        ("non terminé", "FAILED"),
        ("pas OK", "FAILED"),
        ("up_for_retry", "FAILED"),
        ("upstream_failed", "FAILED"),
        ("Wait Condition", "RUNNING"),
        ("InProgress", "RUNNING"),
        ("Succeeded", "SUCCESS"),
    ],
)
def test_status_classes_from_words_and_return_codes(raw: object, expected: str) -> None:
    from flowrag.extract.monitoring import normalise_status

    assert normalise_status(raw) == expected


def test_configured_warning_codes() -> None:
    from flowrag.extract.monitoring import normalise_status

    assert (
        normalise_status("4", frozenset({4})) == "WARNING"
        and normalise_status("8", frozenset({4})) == "FAILED"
    )


def test_options_from_settings_add_the_callers_overrides_collection_by_collection() -> None:
    from flowrag.ingest.monitoring import MongoOptions
    from flowrag.settings import MongoSettings

    configured = MongoSettings(
        mappings={"runs": {"pipeline": "job.name"}}, filters={"runs": {"env": "prod"}}, warning_codes=[4]
    )
    options = MongoOptions.from_settings(
        "mongodb://db.example:27017",
        "monitoring",
        configured,
        mappings={"runs": {"status": "etat"}, "alerts": {"host": None}},
        filters={"alerts": {"level": "high"}},
        full=True,
    )
    assert options.mappings == {"runs": {"pipeline": "job.name", "status": "etat"}, "alerts": {"host": None}}
    assert options.filters == {"runs": {"env": "prod"}, "alerts": {"level": "high"}}
    assert (options.warning_codes, options.batch_size, options.full) == (frozenset({4}), 1000, True)
    assert configured.mappings == {"runs": {"pipeline": "job.name"}}  # the settings are not changed
