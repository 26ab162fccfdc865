"""Intake's key partitioning must place every key where the Java client (and aiokafka) does."""

import uuid

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as reference_murmur2
from hypothesis import given
from hypothesis import strategies as st

from services.common import partitioning


@given(st.binary(max_size=200))
def test_hashes_any_key_as_the_reference_does(key: bytes) -> None:
    assert partitioning.murmur2(key) == reference_murmur2(key) & 0xFFFFFFFF


def test_places_incident_keys_on_the_reference_partitions() -> None:
    reference = DefaultPartitioner()
    ours = partitioning.KeyPartitioner()
    for partitions in (1, 3, 6, 7):
        every = list(range(partitions))
        for _ in range(500):
            key = str(uuid.uuid4()).encode()
            assert ours(key, every, every) == reference(key, every, every)


def test_matches_the_java_client_on_known_keys() -> None:
    # Values from the Java client's own test of Utils.murmur2.
    assert partitioning.murmur2(b"21") == -973932308 & 0xFFFFFFFF
    assert partitioning.murmur2(b"foobar") == -790332482 & 0xFFFFFFFF
    assert partitioning.murmur2(b"a-little-bit-long-string") == -985981536 & 0xFFFFFFFF


def test_spreads_unkeyed_records_over_the_available_partitions() -> None:
    ours = partitioning.KeyPartitioner()
    chosen = {ours(None, [0, 1, 2], [0, 2]) for _ in range(10)}
    assert chosen == {0, 2}
