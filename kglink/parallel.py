"""Work in chunks over the machine's cores, by fork, in two shapes.

`run_chunks`: numpy work whose children write into memory shared with the parent.
Comparing millions of candidate pairs is numpy and rapidfuzz over a table that does not
change meanwhile, so a forked child can read the table as it is (copy-on-write, nothing
to serialise) and write its chunks of the result into memory shared with the parent. The
first chunk is computed in the parent alone, so the caches it fills on the table (value
codes, distinct values) are there before the children are made and are shared with them.
A child that fails has its chunks computed again in the parent: the result never depends
on how the work was split.

`Pool`: worker processes forked once, to which lists are sent batch after batch (the
load's rows) and which answer in JSON (orjson) on pipes; see its docstring.

`produced_elsewhere`: streams each made in a forked child while this process consumes them
(the full graph build: one child makes the nodes, another the relationships, this process
writes them to SQLite).

`KGLINK_WORKERS` sets the number of processes (1: no fork). Without fork (not Linux or
macOS) everything runs in this process.
"""
from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import queue
import select
import signal
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import orjson
from numpy.typing import DTypeLike

T = TypeVar("T")


def workers() -> int:
    """Processes to use: KGLINK_WORKERS, else the cores this process may run on."""
    env = os.environ.get("KGLINK_WORKERS", "").strip()
    if env:
        return max(1, int(env))
    if not hasattr(os, "fork"):
        return 1
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def shared_array(shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """A zeroed array in anonymous shared memory: what a forked child writes, the parent sees."""
    count = int(np.prod(shape))
    buf = mmap.mmap(-1, max(1, count * np.dtype(dtype).itemsize))
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


def run_chunks(n_chunks: int, work: Callable[[int], None], processes: int | None = None) -> None:
    """Call work(i) for every i in range(n_chunks), each exactly once in effect.

    Chunk 0 runs here first; the rest are dealt round-robin over `processes` processes,
    this one included. `work` must write its result only into shared memory.
    """
    if n_chunks <= 0:
        return
    work(0)
    rest = list(range(1, n_chunks))
    n_proc = min(processes or workers(), len(rest))
    if n_proc <= 1:
        for i in rest:
            work(i)
        return
    children: dict[int, list[int]] = {}
    failed: list[int] = []
    try:
        for k in range(1, n_proc):
            mine = rest[k::n_proc]
            pid = os.fork()
            if pid == 0:                       # the child: its chunks, then gone
                code = 1
                try:
                    for i in mine:
                        work(i)
                    code = 0
                finally:
                    os._exit(code)
            children[pid] = mine
        for i in rest[0::n_proc]:
            work(i)
    finally:
        for pid, mine in children.items():
            _, status = os.waitpid(pid, 0)
            if status != 0:
                failed += mine
    for i in failed:
        work(i)


def produced_elsewhere(*produce: Callable[[], Iterable[T]]) -> Iterator[T]:
    """The items of each `produce()`, each made in a forked child of its own while this
    process goes on with each item as it comes (pickled on a pipe, each child a megabyte
    ahead at most). The streams are interleaved as their items arrive; each stream's
    items come in its own order.

    For streams whose making and whose use each take a core and cannot trade places:
    the full graph build makes nodes in one child and relationships in another while
    this process writes them to SQLite, whose connection must stay in the process that
    opened it. Each `produce` runs only in its child, so it must open what it reads
    itself. An error in a child is raised here (the child's exception when it pickles);
    if this process stops reading first (its own error, or the stream closed), the
    children still running are killed. Ask `workers()` first: with one process there is
    no one to fork for.
    """
    children: dict[int, int] = {}                  # pipe read end -> child pid
    ended: set[int] = set()                        # the pipes whose child sent its end
    try:
        for make in produce:
            pid, read_fd = _fork_producer(make, children)
            children[read_fd] = pid
        yield from _frames_of(list(children), ended)
    finally:
        statuses = []
        for fd, pid in children.items():
            os.close(fd)
            if fd not in ended:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            statuses.append(os.waitpid(pid, 0)[1])
    if any(statuses):
        raise ChildProcessError(f"a forked process making the items ended badly (wait statuses {statuses})")


def _fork_producer(make: Callable[[], Iterable[Any]], others: Iterable[int]) -> tuple[int, int]:
    """A forked child that writes `make()`'s items as frames on a pipe of its own, then its
    end (or its error), and exits: (its pid, the pipe's read end). `others`: the read ends
    of the children forked before it, which are not its own to hold."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:                                   # the child: the items, then gone
        os.close(read_fd)
        for fd in others:
            os.close(fd)
        os._exit(_produce_into(make, write_fd))
    os.close(write_fd)
    _widen(read_fd)
    return pid, read_fd


def _frames_of(fds: list[int], ended: set[int]) -> Iterator[Any]:
    """The items read from these pipes until each has sent its end (its pipe then put in
    `ended`), in the order they arrive. The error a child sends is raised; a pipe closed
    without an end is an error."""
    while reading := [fd for fd in fds if fd not in ended]:
        ready = select.select(reading, [], [])[0] if len(reading) > 1 else reading
        for fd in ready:
            frame = _read_frame(fd)
            if frame is None:
                raise ChildProcessError("a forked process making the items ended early")
            what, value = pickle.loads(frame)
            if what == "error":
                raise value
            if what == "end":
                ended.add(fd)
            else:
                yield value


def _produce_into(produce: Callable[[], Iterable[Any]], fd: int) -> int:
    """Write `produce()`'s items as frames, then an end (or the error) frame; an exit code."""
    try:
        _widen(fd)
        for item in produce():
            _write_frame(fd, pickle.dumps(("item", item), protocol=pickle.HIGHEST_PROTOCOL))
        _write_frame(fd, pickle.dumps(("end", None)))
        return 0
    except BaseException as e:  # noqa: BLE001 - any error is the parent's to raise
        with contextlib.suppress(BaseException):
            try:
                frame = pickle.dumps(("error", e))
            except Exception:     # an exception that does not pickle: its kind only
                frame = pickle.dumps(("error", RuntimeError(f"{type(e).__name__} while "
                                                            "making the items")))
            _write_frame(fd, frame)
        return 1


class Ahead:
    """Items made in forked children, started now and taken later, while this process
    does other work meanwhile (a link makes the agencies' parts of the person table while
    it links the addresses).

    Each `produce()` runs in a child of its own and yields (key, bytes) items; a thread
    per child reads its pipe as the child writes (a pipe holds a megabyte at most: the
    child would otherwise wait for this process). `take()` waits for every child and
    returns the items of those that ended well; a child that failed (or was killed) has
    none of its items returned, and the caller makes them itself, so the result never
    depends on the children. Used as a context manager, children still running at its
    end are killed. Each `produce` runs only in its child, so it must open what it reads
    itself. Ask `workers()` first: with one process there is no one to fork for.
    """

    def __init__(self, *produce: Callable[[], Iterable[tuple[str, bytes]]]) -> None:
        self._children: list[tuple[int, int]] = []         # (pid, pipe read end)
        self._readers: list[threading.Thread] = []
        self._got: list[tuple[dict[str, bytes], list[bool]]] = []   # per child: items, ended well
        try:
            # Every child forked before any reader thread starts: a thread running in this
            # process when it forks could hold a lock the child then waits on for ever.
            for make in produce:
                self._children.append(_fork_producer(make, [fd for _, fd in self._children]))
            for _, read_fd in self._children:
                got: tuple[dict[str, bytes], list[bool]] = ({}, [False])
                self._got.append(got)
                reader = threading.Thread(target=_collect, args=(read_fd, got), daemon=True)
                reader.start()
                self._readers.append(reader)
        except BaseException:
            self.close()
            raise

    def take(self) -> dict[str, bytes]:
        """Every item of the children that ended well, once they have all ended. The items
        are handed over, not kept here (they can be large): a second call returns none."""
        statuses = self._reap(kill=False)
        taken: dict[str, bytes] = {}
        for (items, ended), status in zip(self._got, statuses):
            if ended[0] and status == 0:
                taken.update(items)
        self._got = []
        return taken

    def _reap(self, kill: bool) -> list[int]:
        """Wait for (or first kill) every child, and its reader; their wait statuses."""
        if kill:
            for pid, _ in self._children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        for reader in self._readers:        # each ends at its pipe's end: its child gone
            reader.join()
        statuses = [os.waitpid(pid, 0)[1] for pid, _ in self._children]
        for _, fd in self._children:
            os.close(fd)
        self._children = []
        return statuses

    def close(self) -> None:
        """Kill the children still running (their items are not wanted)."""
        if self._children:
            self._reap(kill=True)

    def __enter__(self) -> "Ahead":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _collect(fd: int, got: tuple[dict[str, bytes], list[bool]]) -> None:
    """Read a child's frames into got[0] until its end (then got[1][0] is True), its error
    or its pipe's end."""
    items, ended = got
    with contextlib.suppress(OSError):
        while (frame := _read_frame(fd)) is not None:
            what, value = pickle.loads(frame)
            if what != "item":
                ended[0] = what == "end"
                return
            key, data = value
            items[key] = data


class Pool:
    """Processes forked once that map work over lists sent to them, one batch ahead.

    For work whose input arrives as the caller goes (the load's rows, batch after batch):
    the input is sent rather than read from a fork's copy of memory, because forking a
    process of gigabytes for every batch cost more than the work it spread (a 1M load:
    10.6 million page faults, 31 s of system time, as every page the parent wrote after
    each fork was copied or faulted again). Fork the pool while the process is small.

    `submit(context, items)` splits items between this process and the workers and sends
    the workers theirs at once (a thread per worker writes, so the caller goes on, reading
    the next batch, while they work); `result(ticket)` then does this process's share and
    returns `work(context, items)` for the whole list, in order. Tickets are collected in
    the order they were submitted. This process takes an equal share of a batch when nothing
    else is in flight (it would only wait); otherwise a share that grows while it has had
    to wait for the workers and shrinks while it has not, so it spends its time on what
    only it can do.

    Messages and answers are JSON types (orjson, length-prefixed on pipes): `work` must
    return a list as long as its items, of JSON types; what comes back from a worker is what
    orjson reads (a tuple comes back a list). A worker that fails, or whose work raised, has
    that share done again here, where an error in the work is raised.
    """

    def __init__(self, work: Callable[[Any, list[Any]], list[Any]], processes: int) -> None:
        self._work = work
        self._workers: list[_Worker] = []
        self._share = 0.0           # of each batch done here; grows while this process waits
        self._submitted = self._collected = 0
        inherited: list[int] = []
        try:
            for _ in range(processes):
                to_read, to_write = os.pipe()
                from_read, from_write = os.pipe()
                pid = os.fork()
                if pid == 0:                       # the worker: answer until told to stop
                    code = 1
                    try:
                        for fd in (to_write, from_read, *inherited):
                            os.close(fd)           # or a worker would never see its EOF
                        _serve(work, to_read, from_write)
                        code = 0
                    finally:
                        os._exit(code)
                os.close(to_read)
                os.close(from_write)
                for fd in (to_write, from_read):    # a batch is megabytes: fewer, larger reads
                    _widen(fd)
                inherited += [to_write, from_read]
                self._workers.append(_Worker(pid, to_write, from_read))
        except BaseException:
            self.close()
            raise
        for w in self._workers:
            w.start()

    @property
    def processes(self) -> int:
        return len(self._workers) + 1

    def submit(self, context: Any, items: list[Any]) -> "Ticket":
        live = [w for w in self._workers if w.alive]     # a worker found gone gets no more
        n = len(live)
        # Nothing else in flight: this process would only wait, so it takes an equal share.
        share = self._share if self._submitted > self._collected else 1 / (n + 1)
        here = min(len(items), round(len(items) * share)) if n else len(items)
        size = -(-(len(items) - here) // n) if n else 0
        parts = [(w, items[here + k * size:here + (k + 1) * size]) for k, w in enumerate(live)]
        parts = [(w, part) for w, part in parts if part]
        for w, part in parts:
            w.send(orjson.dumps([context, part]))
        self._submitted += 1
        return Ticket(self._submitted, context, items[:here], parts)

    def result(self, ticket: "Ticket") -> list[Any]:
        assert ticket.number == self._collected + 1, "tickets are collected in submission order"
        out = self._work(ticket.context, ticket.here) if ticket.here else []
        waited = False
        for w, part in ticket.parts:
            waited = waited or not w.answered()
            values = w.receive(len(part))
            out += values if values is not None else self._work(ticket.context, part)
        # Had to wait for a worker: do more here next time; did not: leave them more.
        step = 0.05 if waited else -0.05
        self._share = min(1 / self.processes, max(0.0, self._share + step))
        self._collected += 1        # only now: an error or an interrupt before leaves it unread
        return out

    def map(self, context: Any, items: list[Any], batch: int) -> list[Any]:
        """`work(context, items)` for a list held whole, `batch` items at a time, one batch
        ahead (for the Validator's reading-as-it-goes, use `submit` and `result`)."""
        out: list[Any] = []
        pending: list[Ticket] = []
        for at in range(0, len(items), batch):
            pending.append(self.submit(context, items[at:at + batch]))
            if len(pending) > 1:
                out += self.result(pending.pop(0))
        for ticket in pending:
            out += self.result(ticket)
        return out

    def close(self) -> None:
        """Let the workers go. With answers still unread (an error mid-way), kill them."""
        unread = self._submitted != self._collected
        for w in self._workers:
            w.stop(kill=unread)
        self._workers = []

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Ticket:
    number: int
    context: Any
    here: list[Any]
    parts: list[tuple["_Worker", list[Any]]]


class _Worker:
    def __init__(self, pid: int, to_fd: int, from_fd: int) -> None:
        self.pid, self.to_fd, self.from_fd = pid, to_fd, from_fd
        self.alive = True
        self.outbox: queue.SimpleQueue[bytes | _Stop] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._send_all, daemon=True,
                                       name=f"kglink-pool-send-{pid}")

    def start(self) -> None:
        self.thread.start()

    def send(self, message: bytes) -> None:
        """Queue a message; its answer is read by `receive`, in order."""
        self.outbox.put(message)

    def _send_all(self) -> None:
        while True:
            message = self.outbox.get()
            if isinstance(message, _Stop):
                break
            try:
                _write_frame(self.to_fd, message)
            except OSError:                 # the worker is gone: its answers will say so
                break
        with contextlib.suppress(OSError):
            os.close(self.to_fd)

    def answered(self) -> bool:
        """Has the worker begun to answer (or gone)? Asked without waiting."""
        if not self.alive:
            return True
        poll = select.poll()
        poll.register(self.from_fd, select.POLLIN)
        return bool(poll.poll(0))

    def receive(self, expected: int) -> list[Any] | None:
        """The next answer, or None if the worker failed or its work raised."""
        if not self.alive:
            return None
        frame = _read_frame(self.from_fd)
        try:
            ok, values = orjson.loads(frame) if frame is not None else (False, None)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            ok, values = False, None
        if frame is None:
            self.alive = False
        if not ok or not isinstance(values, list) or len(values) != expected:
            return None
        return values

    def stop(self, kill: bool) -> None:
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        # Stop reading first: a worker blocked writing an answer no one will read then
        # fails and ends, instead of being waited for forever.
        with contextlib.suppress(OSError):
            os.close(self.from_fd)
        self.outbox.put(_Stop())
        if self.thread.is_alive():
            self.thread.join()
        elif self.thread.ident is None:     # never started
            with contextlib.suppress(OSError):
                os.close(self.to_fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


class _Stop:
    """Told to a worker's sending thread: close the pipe, and so end the worker."""


def _serve(work: Callable[[Any, list[Any]], list[Any]], in_fd: int, out_fd: int) -> None:
    while (frame := _read_frame(in_fd)) is not None:
        context, items = orjson.loads(frame)
        try:
            answer = orjson.dumps([True, work(context, items)])
        except Exception:       # done again in the parent, which raises it
            answer = orjson.dumps([False, None])
        _write_frame(out_fd, answer)


_LENGTH = struct.Struct("<Q")
PIPE_SIZE = 1 << 20


def _widen(fd: int) -> None:
    """Ask Linux for a pipe of PIPE_SIZE bytes (64 KiB by default); elsewhere, or refused, as is."""
    try:
        import fcntl
    except ImportError:             # not a POSIX system: no fork, no pool
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, PIPE_SIZE)


def _write_frame(fd: int, body: bytes) -> None:
    view = memoryview(_LENGTH.pack(len(body)) + body)
    while view:
        view = view[os.write(fd, view):]


def _read_frame(fd: int) -> bytes | None:
    """One frame's body; None at the end of the pipe (or a frame cut short)."""
    head = _read_exactly(fd, _LENGTH.size)
    if head is None:
        return None
    return _read_exactly(fd, _LENGTH.unpack(head)[0])


def _read_exactly(fd: int, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
