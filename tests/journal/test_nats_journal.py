"""The journal on NATS JetStream (the machine's server): durable in order, one writer, fenced.

Every test uses a stream of its own, so they share one server."""

import asyncio
import threading
import uuid

import nats
import pytest
from nats.aio.msg import Msg

from bourse.journal.base import JournalFenced, JournalUnavailable, WriterActive
from bourse.journal.nats_address import parse_nats_url
from bourse.journal.nats_follow import StreamFollower
from bourse.journal.nats_journal import NatsJournal
from tests.natsd import machine_nats
from tests.net import free_port

LEASE_S = 0.6


@pytest.fixture
def url() -> str:
    return f"{machine_nats()}/T{uuid.uuid4().hex[:12]}"


def _journal(url: str, node: str, **kw: object) -> NatsJournal:
    return NatsJournal(url, node=node, lease_s=LEASE_S, **kw)  # type: ignore[arg-type]


def _append(j: NatsJournal, payloads: list[bytes]) -> None:
    for payload in payloads:
        j.append(j.last_seq + 1, payload)


def test_records_are_durable_in_order_and_replay_as_written(url: str) -> None:
    j = _journal(url, "a")
    told: list[int] = []
    j.set_durable_listener(told.append)
    payloads = [f"command {i}".encode() * (i % 7 + 1) for i in range(5000)]
    _append(j, payloads)
    assert j.flush() == 5000
    assert j.durable_seq == 5000 and told[-1] == 5000
    assert told == sorted(told)
    assert list(j.replay(4990)) == [(s, payloads[s - 1]) for s in range(4990, 5001)]
    j.close()

    again = _journal(url, "a")  # given back on close: no wait
    assert again.last_seq == again.durable_seq == 5000
    assert [p for _, p in again.replay()] == payloads
    _append(again, [b"after restart"])
    assert again.flush() == 5001
    again.close()


def test_an_append_out_of_sequence_is_refused(url: str) -> None:
    j = _journal(url, "a")
    with pytest.raises(ValueError, match="got seq 3, expected 1"):
        j.append(3, b"x")
    j.close()


def test_a_second_writer_is_refused_while_the_first_renews_its_lease(url: str) -> None:
    first = _journal(url, "first")
    _append(first, [b"one", b"two"])
    first.flush()
    with pytest.raises(WriterActive, match=r"engine first writes this journal.*--standby"):
        _journal(url, "second")
    assert first.unavailable() is None
    _append(first, [b"three"])
    assert first.flush() == 3
    assert [p for _, p in first.replay()] == [b"one", b"two", b"three"]
    first.close()


def test_a_writer_that_stopped_renewing_is_fenced_by_its_successor(url: str) -> None:
    """The old writer is cut off (its lease task stops, as behind a partition); a new one takes
    the lease when it runs out and appends. Everything the old one sends afterwards, several
    records in flight at once, is refused: nothing of it is in the stream."""
    old = _journal(url, "old")
    failures: list[BaseException] = []
    old.set_failure_listener(failures.append)
    _append(old, [b"a", b"b"])
    old.flush()
    old._loop.call_soon_threadsafe(
        lambda: [t.cancel() for t in old._tasks if t.get_name() == "lease"]  # no renewals
    )

    new = _journal(url, "new")
    assert new.last_seq == 2
    _append(new, [b"new 3"])
    assert new.flush() == 3

    _append(old, [b"old 3", b"old 4", b"old 5"])
    with pytest.raises(JournalFenced, match="another engine wrote journal record seq 3"):
        old.flush()
    assert isinstance(failures[0], JournalFenced)
    with pytest.raises(JournalFenced):
        old.append(6, b"old 6")
    assert "no longer writes" in (old.unavailable() or "")

    _append(new, [b"new 4"])
    assert new.flush() == 4
    assert [p for _, p in new.replay()] == [b"a", b"b", b"new 3", b"new 4"]
    old.close()
    new.close()


def test_nats_unreachable_at_start_is_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(JournalUnavailable, match=f"cannot reach NATS at nats://127.0.0.1:{port}"):
        NatsJournal(f"nats://127.0.0.1:{port}/S", connect_timeout_s=1)


def test_a_reader_sees_what_is_durable_and_cannot_append(url: str) -> None:
    j = _journal(url, "a")
    _append(j, [b"x", b"y"])
    j.flush()
    reader = NatsJournal(url, writer=False)
    assert list(reader.replay()) == [(1, b"x"), (2, b"y")]
    with pytest.raises(Exception, match="reading only"):
        reader.append(3, b"z")
    reader.close()
    j.close()


def test_appends_from_another_thread_meanwhile_reads(url: str) -> None:
    j = _journal(url, "a")
    done = threading.Event()

    def engine() -> None:
        _append(j, [b"r%d" % i for i in range(2000)])
        done.set()

    t = threading.Thread(target=engine)
    t.start()
    t.join()
    assert done.is_set() and j.flush() == 2000
    j.close()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("nats://h:4222", "names no stream"),
        ("nats://h:4222/bad.name", "may hold only"),
        ("nats://h:4222/S?replicas=2", "1, 3 or 5"),
        ("nats://h:4222/S?copies=3", "unknown option 'copies'"),
        ("nats://h:x/S", "not host or host:port"),
        ("file:///tmp/j", "nats://host:port/STREAM"),
    ],
)
def test_a_bad_journal_url_says_what_is_wrong(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_nats_url(url)


def test_a_cluster_url_lists_every_server() -> None:
    address = parse_nats_url("nats://a:4222,b,c:5000/J-1?replicas=3")
    assert address.servers == ("nats://a:4222", "nats://b:4222", "nats://c:5000")
    assert (address.stream, address.replicas) == ("J-1", 3)
    assert str(address) == "nats://a:4222,b:4222,c:5000/J-1"


class _LosesOneAck(NatsJournal):
    """A journal whose acknowledgement of a message (by number) is lost on the way (once)."""

    lost: set[int]
    resyncs = 0

    async def _resync(self) -> None:
        type(self).resyncs += 1
        await super()._resync()

    async def _on_ack(self, msg: Msg) -> None:
        number = int(msg.subject.rpartition(".")[2])
        if number in self.lost:
            self.lost.discard(number)
            return
        await super()._on_ack(msg)


def test_a_record_stored_whose_acknowledgement_was_lost_is_found_in_the_stream(url: str) -> None:
    """The record is stored, its answer lost; sent again after JetStream's duplicate window, the
    copy is refused (the stream moved past it). The writer reads the stream, finds its own
    record there, counts it durable, and goes on: nothing twice, nothing lost."""
    address = parse_nats_url(url)

    async def short_window() -> None:
        nc = await nats.connect(address.servers[0])
        try:
            await nc.jetstream().add_stream(
                name=address.stream, subjects=[address.subject], duplicate_window=0.1
            )
        finally:
            await nc.close()

    asyncio.run(short_window())
    _LosesOneAck.lost = {3}
    j = _LosesOneAck(url, node="a", lease_s=LEASE_S, ack_timeout_s=0.4)
    for seq, payload in enumerate([b"one", b"two", b"three"], 1):
        _append(j, [payload])
        assert j.flush() == seq  # one message each: the third's answer is lost
    _append(j, [b"four"])
    assert j.flush() == 4
    assert [p for _, p in j.replay()] == [b"one", b"two", b"three", b"four"]
    assert _LosesOneAck.resyncs == 1  # the copy was refused, and the stream read
    j.close()


def _stream_messages(url: str) -> int:
    address = parse_nats_url(url)

    async def count() -> int:
        nc = await nats.connect(address.servers[0])
        try:
            return int((await nc.jetstream().stream_info(address.stream)).state.messages)
        finally:
            await nc.close()

    return asyncio.run(count())


def test_a_burst_is_packed_into_few_messages_and_read_from_any_seq(url: str) -> None:
    """Records buffered together go out as one message (within PACK_RECORDS); a replay, and a
    follower, may start at any record, inside a message too."""
    j = _journal(url, "a")
    payloads = [b"r%d" % i * (i % 5 + 1) for i in range(1, 3001)]
    j._holding = True  # read by the loop thread only once woken: the appends pile up
    _append(j, payloads)

    def release() -> None:
        j._holding = False
        j._wake.set()

    j._loop.call_soon_threadsafe(release)
    assert j.flush() == 3000
    assert _stream_messages(url) == 3  # 1024 records at most in one
    for start in (1, 2, 1023, 1024, 1025, 1500, 2999, 3000):
        assert list(j.replay(start)) == [(s, payloads[s - 1]) for s in range(start, 3001)]
    follower = StreamFollower(url, node="f", lease_s=LEASE_S)
    got = follower.follow(1500)
    while got[-1][0] < 3000:
        got += follower.follow(got[-1][0] + 1)
    assert got == [(s, payloads[s - 1]) for s in range(1500, 3001)]
    assert follower.follow(3001, wait_s=0.05) == [] and follower.stream_last() == 3000
    follower.close()
    j.close()


def test_a_stream_of_one_record_per_message_reads_and_goes_on(url: str) -> None:
    """What the journal wrote before it packed records (no Bourse-Seq header): each message one
    record, its number the seq. Such a stream replays, and its writer continues it."""
    address = parse_nats_url(url)

    async def write_unpacked() -> None:
        nc = await nats.connect(address.servers[0])
        try:
            js = nc.jetstream()
            await js.add_stream(name=address.stream, subjects=[address.subject])
            for i in (1, 2, 3):
                await js.publish(address.subject, b"old %d" % i, headers={"Nats-Msg-Id": f"1:{i}"})
        finally:
            await nc.close()

    asyncio.run(write_unpacked())
    j = _journal(url, "a")
    assert j.last_seq == 3 and list(j.replay(2)) == [(2, b"old 2"), (3, b"old 3")]
    _append(j, [b"new 4", b"new 5"])
    assert j.flush() == 5
    assert list(j.replay(3)) == [(3, b"old 3"), (4, b"new 4"), (5, b"new 5")]
    j.close()
