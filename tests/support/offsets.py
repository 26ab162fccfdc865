"""How far consumer groups have committed on a topic's partitions, against its end offsets."""

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

Ends = Mapping[TopicPartition, int]


@dataclass
class OffsetProbe:
    """A reader for end offsets and an admin client for committed ones, held while in use."""

    reader: AIOKafkaConsumer
    admin: AIOKafkaAdminClient

    async def ends(self, topics: Sequence[str], *, partitions: int) -> Ends:
        """Each partition's end offset now: the next record published there will have it."""
        wanted = [TopicPartition(topic, n) for topic in topics for n in range(partitions)]
        return dict(await self.reader.end_offsets(wanted))

    async def uncommitted(self, group: str, ends: Ends) -> int:
        """Records up to `ends` that `group` has not committed (a partition it never
        committed on counts from its start)."""
        committed = await self.admin.list_consumer_group_offsets(group)
        return sum(
            max(0, end - (committed[tp].offset if tp in committed else 0))
            for tp, end in ends.items()
        )


@asynccontextmanager
async def probe(servers: str) -> AsyncIterator[OffsetProbe]:
    """An OffsetProbe on the cluster at `servers`, stopped on the way out."""
    reader = AIOKafkaConsumer(bootstrap_servers=servers)
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await reader.start()
    await admin.start()
    try:
        yield OffsetProbe(reader, admin)
    finally:
        await reader.stop()
        await admin.close()
