"""Read shmkit message channels from Python, with the standard library only (Linux).

A shmkit channel is a ring of variable-length messages in a named shared memory segment
(/dev/shm/NAME), written by Java producers (io.shmkit.channel.ChannelProducer). This module takes
the part of the channel's consumer (one-to-one, many-to-one) or of one of its subscribers
(publish-subscribe), following the protocol of the Java consumer (docs/channels.md), so that Java,
C and Python participants can be mixed, killed and restarted in any order::

    import shmkit_channel

    with shmkit_channel.Channel("prices") as ch:
        ch.attach_consumer()           # or ch.attach_subscriber("audit") on a publish-subscribe channel
        while running:
            if ch.poll(lambda type_id, payload: print(type_id, payload)) == 0:
                ch.await_messages(0.1)

or from a shell: ``python3 shmkit_channel.py NAME [--count N] [--timeout S] [--subscriber [NAME]]``,
which prints ``TYPE<TAB>LENGTH<TAB>PAYLOAD`` per message (PAYLOAD as text when it is printable
ASCII not starting with "hex:", else "hex:" and lowercase hex), like native/examples/channel_consumer.

Atomics
-------
Python has no atomic operations on shared memory, so the module uses the CPU's through ``ctypes``:

* **libatomic** (GCC's runtime, ``libatomic.so.1``, present wherever GCC-built software is): when
  it is found, every shared word is accessed with the same operations and memory orders as the Java
  and C consumers: acquire loads of record headers, release stores of positions, compare-and-swap
  of owner and record words, atomic increments of the waiting counters, ``atomic_thread_fence``
  (seq_cst) after progress, and futex(2) sleeps through ``libc.syscall``. Nothing is approximated,
  on any architecture.

* **plain** (no libatomic, or ``atomics="plain"`` / ``--atomics plain``), x86-64 only: aligned
  8-byte words are read and written through ``memoryview.cast("Q")``, which are single ``mov``
  instructions, and x86's TSO model makes every plain load an acquire and every plain store a
  release, so reading records and committing positions is exact. What cannot be done without an
  atomic read-modify-write is approximated, and these races remain:

  - *Taking the consumer slot* reads the owner word, takes the slot only when it is free, closed,
    dead or held by a process that is gone, writes CLAIMING|pid, pauses 5 ms and re-reads it. A
    competing claimer (Java or C) whose compare-and-swap lands between that read and that write is
    overwritten without either side noticing, and both then consume: duplicates and a corrupted
    position. Do not start two consumers of the same channel at the same moment in this mode. A
    competitor that writes after us is detected by the re-read (we give up the slot). Leaving the
    slot (ACTIVE -> CLOSED) is a plain store; only we write that word while we are alive.
  - *The fence after progress* is the locked instruction of acquiring a ``threading.Lock``
    (on x86-64 any locked instruction is a full fence). Bumping the space signal is a plain
    read-modify-write: racing another subscriber's bump can lose one, and a Java producer that
    was about to sleep for space then sleeps one 10 ms slice longer than needed. Never more: it
    sleeps in slices and re-checks.
  - *Waiting* polls with 1 ms sleeps instead of registering in "consumers waiting" (a plain
    increment could lose another consumer's), so a message can take up to ~1 ms longer to arrive.
  - *Unfinished records in many-to-one channels* are turned into padding only when their producer
    is dead (writing the same padding word that any other recoverer writes), never because a live
    producer exceeded the stuck-record timeout: a live producer's commit could race that write. A
    live producer that never finishes its record therefore stalls a plain-mode consumer.

Holding the channel
-------------------
Like every shmkit handle, an open Channel holds a shared flock(2) on the segment, so a channel
whose lifetime is "until last close" stays while this program has it open, and is removed when
this program closes it last. A channel whose name is removed while it is open stays usable (the
mapping lives on), as in Java and C.

A segment truncated by another process while it is open: :meth:`Channel.await_messages` checks the
file's size before it reads and after each sleep and raises :class:`ChannelError` ("corrupted",
"was truncated under this process"), and :meth:`Channel.close` then leaves quietly. :meth:`Channel.poll`
does not check (a system call per poll): a truncation that lands while it reads is a SIGBUS, which
Python cannot catch, and the interpreter dies (exit status 135).
"""

import argparse
import ctypes
import ctypes.util
import errno
import fcntl
import mmap
import os
import platform
import signal
import stat
import sys
import threading
import time
import unicodedata

# What ``from shmkit_channel import *`` brings; the layout constants below stay reachable as attributes.
__all__ = ["Channel", "ChannelError", "format_message", "main", "process_start_time", "KIND_ONE_TO_ONE",
           "KIND_MANY_TO_ONE", "KIND_PUBLISH_SUBSCRIBE", "KIND_NAMES", "DEFAULT_STUCK_RECORD_TIMEOUT"]

MAGIC = 0x4E4148434B4D4853  # "SHMKCHAN" read as a little-endian word
VERSION = 1

KIND_ONE_TO_ONE = 1
KIND_MANY_TO_ONE = 2
KIND_PUBLISH_SUBSCRIBE = 3
KIND_NAMES = {KIND_ONE_TO_ONE: "one-to-one", KIND_MANY_TO_ONE: "many-to-one",
              KIND_PUBLISH_SUBSCRIBE: "publish-subscribe"}

CACHE_LINE = 64  # the producers' words, each wake-up pair and each slot have a line of their own

MAGIC_OFFSET = 0
VERSION_OFFSET = 8
KIND_OFFSET = 12
CAPACITY_OFFSET = 16
MAX_MESSAGE_LENGTH_OFFSET = 24
PRODUCER_SLOTS_OFFSET = 28
CONSUMER_SLOTS_OFFSET = 32
RESERVED_OFFSET = 36
DATA_OFFSET_OFFSET = 40
SLOTS_OFFSET_OFFSET = 48
CREATED_MILLIS_OFFSET = 56
TAIL_OFFSET = 64
CLEAN_POSITION_OFFSET = 72
DATA_SIGNAL_OFFSET = 192
CONSUMERS_WAITING_OFFSET = 196
SPACE_SIGNAL_OFFSET = 256
PRODUCERS_WAITING_OFFSET = 260
HEADER_LENGTH = 320

MIN_CAPACITY = 4096
MAX_CAPACITY = 1 << 30
MAX_SLOTS = 4096
# Largest tail an opener accepts: position arithmetic (a position plus the capacity) must not overflow.
MAX_POSITION = 1 << 62

SLOT_LENGTH = 64
SLOT_OWNER_OFFSET = 0
SLOT_START_TIME_OFFSET = 8
SLOT_HEARTBEAT_OFFSET = 16
SLOT_POSITION_OFFSET = 24
SLOT_MESSAGES_OFFSET = 32
SLOT_CLAIM_LENGTH_OFFSET = 40
SLOT_RESERVED_OFFSET = 44
SLOT_RETIRING_OFFSET = 40  # the same 8 bytes, in the many-to-one consumer's slot
SLOT_NAME_OFFSET = 48
SLOT_NAME_LENGTH = 16

FREE, CLAIMING, ACTIVE, CLOSED, DEAD = 0, 1, 2, 3, 4

RECORD_HEADER_LENGTH = 8
RECORD_ALIGNMENT = 8
PADDING_TYPE = -1

DEFAULT_STUCK_RECORD_TIMEOUT = 5.0

_RELAXED, _ACQUIRE, _RELEASE, _SEQ_CST = 0, 2, 3, 5
_FUTEX_WAIT, _FUTEX_WAKE = 0, 1
_SYS_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98, "riscv64": 98}.get(platform.machine().lower())
_SYS_MEMBARRIER = {"x86_64": 324, "amd64": 324, "aarch64": 283, "arm64": 283, "riscv64": 283}.get(platform.machine().lower())
_MEMBARRIER_CMD_GLOBAL_EXPEDITED = 1 << 1
_X86_64 = platform.machine().lower() in ("x86_64", "amd64")
_IDLE_POLLS_PER_CHECK = 256
_SLICE = 0.010


class ChannelError(Exception):
    """A channel that cannot be used, with the reason in words. ``reason`` is one of: not-found,
    access, not-channel, version, corrupted, kind, busy, system, invalid (as the C header's codes)."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


def _s32(value):
    return value - (1 << 32) if value & 0x80000000 else value


def _s64(value):
    return value - (1 << 64) if value & (1 << 63) else value


def _printable(ch):
    """As Java's SegmentNames.printable: no control, format, unassigned, private-use or surrogate
    code points, no line or paragraph separators, no white space but ' ' and the no-break spaces."""
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"):
        return False
    return category != "Zs" or ch in " \u00a0\u2007\u202f"


def _channel_name(name):
    """The segment name for ``name``: the names Java accepts (docs/segments.md, "Valid names"),
    "Local\\" and "Global\\" removed as Java removes them, plus shm_open's leading '/'."""
    if name.startswith("/"):
        name = name[1:]
    elif name[:6].lower() == "local\\":
        name = name[6:]
    elif name[:7].lower() == "global\\":
        name = name[7:]
    why = None
    if not name:
        why = "it is empty"
    elif "\0" in name:
        why = "it contains a NUL character"
    elif len(name.encode("utf-8", "surrogatepass")) > 255:
        why = "it is longer than 255 bytes in UTF-8"
    elif "/" in name:
        why = "it contains '/' (give the bare name, or \"/name\" as shm_open spells it)"
    elif "\\" in name:
        why = "it contains '\\' (only the prefixes Local\\ and Global\\ are accepted)"
    elif ".." in name:
        why = "it contains '..'"
    elif name.startswith("."):
        why = "it starts with '.', which is reserved for shmkit's temporary objects"
    else:
        for i, ch in enumerate(name):
            if not _printable(ch):
                why = "it contains the non-printable character U+%04X at index %d" % (ord(ch), i)
                break
    if why is not None:
        shown = "".join(c if _printable(c) and c != '"' else "\\u%04x" % ord(c) for c in name)
        raise ChannelError("invalid", 'invalid channel name "%s": %s' % (shown, why))
    return name


def _owner(state, pid):
    return (pid & 0xFFFFFFFF) << 32 | state


def _record_header(length, type_id):
    return (type_id & 0xFFFFFFFF) << 32 | (length & 0xFFFFFFFF)


def _aligned(length):
    return (length + RECORD_ALIGNMENT - 1) & -RECORD_ALIGNMENT


def _boottime_offset_ticks():
    """The boot-time offset of this process's time namespace in clock ticks (USER_HZ, 100):
    "boottime" in /proc/self/timens_offsets, 0 in the initial namespace or without time
    namespaces. The kernel adds the reader's offset to the start times in /proc/PID/stat; taking
    it off again makes every process read the same start time for a process, as Java does."""
    try:
        with open("/proc/self/timens_offsets") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[0] == "boottime":
                    return int(parts[1]) * 100 + int(parts[2]) // 10000000
    except (OSError, ValueError):
        pass
    return 0


_BOOTTIME_OFFSET_TICKS = None


def process_start_time(pid):
    """When process ``pid`` started (clock ticks since boot, /proc/PID/stat field 22, as the initial
    time namespace shows it), or -1 when
    there is no such process or it is a zombie. Pid and start time together name a process even
    when pids are reused. -2 when it exists but cannot be inspected (another user's process under
    hidepid): presume that one alive."""
    if pid <= 0:
        return -1
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            text = f.read()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return -1
        except OSError:
            return -2
        return -2
    # Field 2, the command, may hold spaces and parentheses: count fields after the last ')'.
    fields = text[text.rfind(b")") + 2:].split()
    if len(fields) < 20:
        return -1
    try:
        # The state is the first thread's: Z once it ended (pthread_exit from main) while the other
        # threads run on. Only a zombie alone in its thread group (field 20) is a dead process.
        if fields[0] in (b"Z", b"X") and int(fields[20 - 3]) <= 1:
            return -1
        start = int(fields[22 - 3])
    except ValueError:
        return -1
    global _BOOTTIME_OFFSET_TICKS
    if _BOOTTIME_OFFSET_TICKS is None:
        _BOOTTIME_OFFSET_TICKS = _boottime_offset_ticks()
    start -= _BOOTTIME_OFFSET_TICKS
    return start if start >= 0 else -1


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _load_libatomic():
    """GCC's atomics library, with the functions bound under plain names (a double underscore
    inside a class body would be name-mangled); None when it is missing or too old."""
    path = ctypes.util.find_library("atomic") or "libatomic.so.1"
    try:
        lib = ctypes.CDLL(path)
        functions = {
            "load8": (lib["__atomic_load_8"], [ctypes.c_void_p, ctypes.c_int], ctypes.c_uint64),
            "store8": (lib["__atomic_store_8"], [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int], None),
            "load4": (lib["__atomic_load_4"], [ctypes.c_void_p, ctypes.c_int], ctypes.c_uint32),
            "cas8": (lib["__atomic_compare_exchange_8"],
                     [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.c_uint64, ctypes.c_int, ctypes.c_int],
                     ctypes.c_bool),
            "add4": (lib["__atomic_fetch_add_4"], [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int], ctypes.c_uint32),
            # Since GCC 7's libatomic (LIBATOMIC_1.2).
            "fence": (lib["atomic_thread_fence"], [ctypes.c_int], None),
        }
    except (OSError, AttributeError):
        return None
    bound = {}
    for name, (function, argtypes, restype) in functions.items():
        function.argtypes = argtypes
        function.restype = restype
        bound[name] = function
    return bound


class _LibAtomic:
    """Shared words through libatomic: the same operations and orders as the Java side."""
    name = "libatomic"

    def __init__(self, functions, base):
        self._load8 = functions["load8"]
        self._store8 = functions["store8"]
        self._load4 = functions["load4"]
        self._cas8 = functions["cas8"]
        self._add4 = functions["add4"]
        self._fence = functions["fence"]
        self._base = base
        self._expected = ctypes.c_uint64()

    def load64(self, offset, order=_SEQ_CST):
        return self._load8(self._base + offset, order)

    def store64(self, offset, value, order=_SEQ_CST):
        self._store8(self._base + offset, value & 0xFFFFFFFFFFFFFFFF, order)

    def load32(self, offset):
        return self._load4(self._base + offset, _SEQ_CST)

    def cas64(self, offset, expected, desired):
        self._expected.value = expected
        return self._cas8(self._base + offset, ctypes.byref(self._expected), desired, _SEQ_CST, _SEQ_CST)

    def add32(self, offset, delta):
        self._add4(self._base + offset, delta & 0xFFFFFFFF, _SEQ_CST)

    def reset32(self, offset):
        """Back to 0, for a count whose only other writer died."""
        value = self._load4(self._base + offset, _SEQ_CST)
        if value:
            self._add4(self._base + offset, -value & 0xFFFFFFFF, _SEQ_CST)

    def fence(self):
        self._fence(_SEQ_CST)


class _Plain:
    """Shared words through plain aligned loads and stores (x86-64 only); see the module's docstring."""
    name = "plain"
    _CLAIM_PAUSE = 0.005

    def __init__(self, buffer):
        whole = len(buffer) - len(buffer) % 8  # cast() needs whole items; a non-channel may be any size
        self._q = buffer[:whole].cast("Q")
        self._i = buffer[:whole].cast("I")
        self._fence_lock = threading.Lock()

    def release(self):
        self._q.release()
        self._i.release()

    def load64(self, offset, order=_SEQ_CST):
        return self._q[offset >> 3]

    def store64(self, offset, value, order=_SEQ_CST):
        self._q[offset >> 3] = value & 0xFFFFFFFFFFFFFFFF

    def load32(self, offset):
        return self._i[offset >> 2]

    def reset32(self, offset):
        """Back to 0, for a count whose only other writer died."""
        self._i[offset >> 2] = 0

    def claim64(self, offset, expected, desired):
        """Read, write, pause, re-read: not a compare-and-swap (see the docstring for the race)."""
        if self._q[offset >> 3] != expected:
            return False
        self._q[offset >> 3] = desired
        time.sleep(self._CLAIM_PAUSE)
        return self._q[offset >> 3] == desired

    def fence(self):
        with self._fence_lock:
            pass


class Channel:
    """An open channel. Attach with :meth:`attach_consumer` or :meth:`attach_subscriber`, then
    :meth:`poll` and :meth:`await_messages`; :meth:`close` (or ``with``) detaches and unmaps.

    Read-only attributes once open: ``name``, ``kind``, ``capacity``, ``max_message_length``,
    ``producer_slots``, ``consumer_slots``, ``atomics`` ("libatomic" or "plain"); once attached:
    ``position`` (next position to read), ``messages`` (consumed through this slot, ever),
    ``lost_bytes`` (a named subscriber coming back: bytes overwritten while it was away) and
    ``slot_index``. Not thread-safe: one thread uses a Channel.
    """

    def __init__(self, name, *, allow_foreign_owner=False, atomics="auto",
                 stuck_record_timeout=DEFAULT_STUCK_RECORD_TIMEOUT):
        self._fd = -1
        self._map = None
        self._view = None
        self._anchor = None
        self._mem = None
        self._slot = None
        name = _channel_name(name)
        if atomics not in ("auto", "libatomic", "plain"):
            raise ChannelError("invalid", "atomics must be auto, libatomic or plain, not %r" % atomics)
        self.name = name
        self.path = "/dev/shm/" + name
        self.stuck_record_timeout = stuck_record_timeout
        self.position = 0
        self.messages = 0
        self.lost_bytes = 0
        self.slot_index = -1
        self._pid = os.getpid()
        self._start_time = process_start_time(self._pid)
        self._idle_polls = 0
        self._stuck_position = -1
        self._stuck_since = 0.0
        self._last_heartbeat = 0.0
        try:
            self._open(allow_foreign_owner, atomics)
        except BaseException:
            self.close()
            raise

    def _open(self, allow_foreign_owner, atomics):
        for attempt in range(101):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError as e:
                raise self._os_error(e, "open") from None
            self._fd = fd
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ChannelError("not-channel", "%s is not a regular file (mode %o); refusing to map it"
                                   % (self.path, st.st_mode))
            if st.st_uid != os.geteuid() and not allow_foreign_owner:
                raise ChannelError("access", "%s is owned by uid %d, not by this user (uid %d); open it with "
                                             "allow_foreign_owner=True if you trust its owner"
                                   % (self.path, st.st_uid, os.geteuid()))
            # A shared lock makes this program a holder, as every shmkit handle is (docs/segments.md).
            fcntl.flock(fd, fcntl.LOCK_SH)
            # Its last holder may have removed the name between our open and our lock.
            try:
                now = os.lstat(self.path)
                if now.st_dev == st.st_dev and now.st_ino == st.st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
            self._fd = -1
        else:
            raise ChannelError("system", 'cannot open "%s": it was removed and re-created 100 times while opening it'
                               % self.name)
        self._last_close = self._lifetime_is_last_close(st.st_mode)
        self._size = st.st_size
        if self._size < HEADER_LENGTH:
            raise ChannelError("not-channel", 'segment "%s" is not a channel: it is %d bytes, smaller than a channel '
                                              "header (%d)" % (self.name, self._size, HEADER_LENGTH))
        self._map = mmap.mmap(self._fd, self._size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self._view = memoryview(self._map)
        self._libc = _libc()
        lib = _load_libatomic() if atomics != "plain" else None
        if lib is not None:
            self._anchor = ctypes.c_char.from_buffer(self._map)
            self._base = ctypes.addressof(self._anchor)
            self._mem = _LibAtomic(lib, self._base)
        elif atomics == "libatomic":
            raise ChannelError("system", "libatomic (libatomic.so.1 with atomic_thread_fence) was not found")
        elif not _X86_64:
            raise ChannelError("system", "without libatomic, shmkit_channel works on x86-64 only (this is %s): "
                                         "install libatomic1" % platform.machine())
        else:
            self._anchor = ctypes.c_char.from_buffer(self._map)
            self._base = ctypes.addressof(self._anchor)
            self._mem = _Plain(self._view)
        self.atomics = self._mem.name
        # SYNC POINT: pairs with the creator's release store of the magic, written after the header.
        deadline = time.monotonic() + 2.0
        while self._mem.load64(MAGIC_OFFSET, _ACQUIRE) == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        # Read once: a value changed later by a faulty process must not move our bounds.
        self._check_header(bytes(self._view[:TAIL_OFFSET]))
        self._check_positions()

    def _lifetime_is_last_close(self, mode):
        try:
            return os.getxattr(self._fd, "user.shmkit.lifetime") == b"last-close"
        except OSError:
            return bool(mode & stat.S_ISVTX)

    def _os_error(self, e, what):
        if e.errno == errno.ENOENT:
            return ChannelError("not-found", 'no shared memory segment named "%s" (%s)' % (self.name, self.path))
        if e.errno == errno.ELOOP:
            return ChannelError("access", "%s is a symbolic link; shmkit does not follow links" % self.path)
        if e.errno in (errno.EACCES, errno.EPERM):
            return ChannelError("access", "cannot %s %s: %s" % (what, self.path, e.strerror))
        return ChannelError("system", "cannot %s %s: %s" % (what, self.path, e.strerror))

    def _corrupted(self, offset, field, value):
        return ChannelError("corrupted", 'channel "%s" is corrupted: %s at offset %d is %d'
                            % (self.name, field, offset, value))

    def _check_header(self, h):
        """The same checks as ChannelDescriptor.checkHeader, in the same order, so both report alike."""
        def i32(offset):
            return int.from_bytes(h[offset:offset + 4], "little", signed=True)

        def i64(offset):
            return int.from_bytes(h[offset:offset + 8], "little", signed=True)

        magic = int.from_bytes(h[0:8], "little")
        if magic != MAGIC:
            raise ChannelError("not-channel", 'segment "%s" is not a channel: magic at offset 0 is 0x%x, expected 0x%x '
                                              '("SHMKCHAN")%s' % (self.name, magic, MAGIC,
                                                                  "; it is empty, or its creator has not finished"
                                                                  if magic == 0 else ""))
        version = i32(VERSION_OFFSET)
        if version != VERSION:
            raise ChannelError("version", 'channel "%s" has layout version %d; this module reads version %d'
                               % (self.name, version, VERSION))
        kind = i32(KIND_OFFSET)
        if kind not in KIND_NAMES:
            raise self._corrupted(KIND_OFFSET, "kind", kind)
        capacity = i64(CAPACITY_OFFSET)
        if capacity < MIN_CAPACITY or capacity > MAX_CAPACITY or capacity & (capacity - 1):
            raise self._corrupted(CAPACITY_OFFSET, "capacity (a power of two from 4096 to 2^30)", capacity)
        max_length = i32(MAX_MESSAGE_LENGTH_OFFSET)
        if max_length < 0 or max_length > capacity // 8 - RECORD_HEADER_LENGTH:
            raise self._corrupted(MAX_MESSAGE_LENGTH_OFFSET, "max message length", max_length)
        producers = i32(PRODUCER_SLOTS_OFFSET)
        consumers = i32(CONSUMER_SLOTS_OFFSET)
        if producers < 1 or producers > MAX_SLOTS:
            raise self._corrupted(PRODUCER_SLOTS_OFFSET, "producer slots", producers)
        if consumers < 1 or consumers > MAX_SLOTS:
            raise self._corrupted(CONSUMER_SLOTS_OFFSET, "consumer slots", consumers)
        if (kind != KIND_MANY_TO_ONE and producers != 1) or (kind != KIND_PUBLISH_SUBSCRIBE and consumers != 1):
            raise ChannelError("corrupted", 'channel "%s" is corrupted: a %s channel cannot have %d producer and %d '
                                            "consumer slots" % (self.name, KIND_NAMES[kind], producers, consumers))
        slots = i64(SLOTS_OFFSET_OFFSET)
        if slots != HEADER_LENGTH:
            raise self._corrupted(SLOTS_OFFSET_OFFSET, "slots offset", slots)
        data = i64(DATA_OFFSET_OFFSET)
        page = mmap.PAGESIZE
        if data != (HEADER_LENGTH + (producers + consumers) * SLOT_LENGTH + page - 1) // page * page:
            raise self._corrupted(DATA_OFFSET_OFFSET, "data offset", data)
        if self._size < data + capacity:
            raise ChannelError("corrupted", 'channel "%s" is truncated: it is %d bytes, its header needs %d'
                               % (self.name, self._size, data + capacity))
        self.kind = kind
        self.capacity = capacity
        self._mask = capacity - 1
        self.max_message_length = max_length
        self.producer_slots = producers
        self.consumer_slots = consumers
        self._data = data

    def _check_positions(self):
        """Corruption is reported on open, not found later. Producers and consumers may be at work
        meanwhile: the checks are repeated until the tail stood still while they ran (as
        Channel.checkPositions)."""
        for _ in range(100):
            tail = _s64(self._mem.load64(TAIL_OFFSET))
            problem = self._position_problem(tail)
            if _s64(self._mem.load64(TAIL_OFFSET)) == tail:
                if problem is not None:
                    raise problem
                return

    def _position_problem(self, tail):
        """The checks against one value of the tail. A single producer publishes a record's header
        before it advances the tail, so a consumer may be one record ahead of the tail (exactly that
        record); a subscriber
        slot being taken still holds its previous owner's position, which gates nothing."""
        if tail < 0 or tail > MAX_POSITION or tail & 7:
            return self._corrupted(TAIL_OFFSET, "tail position", tail)
        clean = _s64(self._mem.load64(CLEAN_POSITION_OFFSET))
        if self.kind != KIND_MANY_TO_ONE and (clean < tail or clean > tail + self.capacity or clean & 7):
            return self._corrupted(CLEAN_POSITION_OFFSET, "clean position (tail %d)" % tail, clean)
        # A consumer ahead of the tail has read the record published there: it stands right after
        # it, or it would read from the middle of the records written next.
        ahead = 0
        length = _s32(self._mem.load64(self._data + (tail & self._mask), _ACQUIRE) & 0xFFFFFFFF)
        if self.kind != KIND_MANY_TO_ONE and RECORD_HEADER_LENGTH <= length <= self.capacity - (tail & self._mask):
            ahead = _aligned(length)
        for i in range(self.consumer_slots):
            slot = self._slot_offset(self.producer_slots + i)
            state = _s32(self._mem.load64(slot + SLOT_OWNER_OFFSET) & 0xFFFFFFFF)
            if state < FREE or state > DEAD:
                return self._corrupted(slot + SLOT_OWNER_OFFSET, "state of consumer slot %d" % i, state)
            position = _s64(self._mem.load64(slot + SLOT_POSITION_OFFSET))
            gates = self.kind != KIND_PUBLISH_SUBSCRIBE or state == ACTIVE
            if position < 0 or position & 7 or (position > tail and position != tail + ahead) or (gates and tail - position > self.capacity):
                return self._corrupted(slot + SLOT_POSITION_OFFSET,
                                       "position of consumer slot %d (tail %d)" % (i, tail), position)
        return None

    @staticmethod
    def _slot_offset(index):
        return HEADER_LENGTH + index * SLOT_LENGTH

    # ------------------------------------------------------------------------------------------
    # Joining

    def _owner_alive(self, slot, owner):
        """Whether the process recorded in a slot still runs: pid and start time both match."""
        pid = _s32(owner >> 32)
        if pid == self._pid:
            # Another handle in this process, unless an earlier process with this pid left the slot
            # (a pid reused, a container restarted in a new pid namespace): its start time differs.
            return (owner & 0xFFFFFFFF == CLAIMING
                    or _s64(self._mem.load64(slot + SLOT_START_TIME_OFFSET, _ACQUIRE)) == self._start_time)
        now = process_start_time(pid)
        if now == -2:
            return True  # exists, but /proc/PID cannot be read: never take a live owner for dead
        if owner & 0xFFFFFFFF == CLAIMING:
            # Being taken: the start time may still be the previous owner's, so only the pid counts.
            return now >= 0
        return now >= 0 and now == _s64(self._mem.load64(slot + SLOT_START_TIME_OFFSET, _ACQUIRE))

    def _slot_name(self, slot):
        return bytes(self._view[slot + SLOT_NAME_OFFSET:slot + SLOT_NAME_OFFSET + SLOT_NAME_LENGTH])

    def _take(self, slot, owner, desired):
        if isinstance(self._mem, _LibAtomic):
            return self._mem.cas64(slot + SLOT_OWNER_OFFSET, owner, desired)
        return self._mem.claim64(slot + SLOT_OWNER_OFFSET, owner, desired)

    def _acquire_slot(self, first, count, name, role):
        """Takes a slot in [first, first + count) as Channel.acquireSlot does: the slot of ``name``
        when it has one (to resume), else a free one, else one left closed or by a dead process."""
        padded = name.ljust(SLOT_NAME_LENGTH, b"\0") if name is not None else None
        for _ in range(1000):
            candidate, resumed, rank, live_owner = -1, False, None, 0
            for i in range(first, first + count):
                slot = self._slot_offset(i)
                owner = self._mem.load64(slot + SLOT_OWNER_OFFSET)
                state = owner & 0xFFFFFFFF
                usable = state in (FREE, CLOSED, DEAD) or not self._owner_alive(slot, owner)
                if padded is not None and state != FREE and self._slot_name(slot) == padded:
                    if not usable:
                        raise ChannelError("busy", 'subscriber "%s" of channel "%s" is in use by live process %d'
                                           % (name.decode("utf-8"), self.name, owner >> 32))
                    candidate, resumed = i, True
                    break
                if not usable:
                    live_owner = owner >> 32
                    continue
                # Prefer slots nobody may come back for: free, then unnamed, then named ones.
                r = 0 if state == FREE else 1 if self._slot_name(slot)[0] == 0 else 2
                if rank is None or r < rank:
                    rank, candidate = r, i
            if candidate < 0:
                if count == 1:
                    raise ChannelError("busy", 'the %s of channel "%s" is live process %d'
                                       % (role, self.name, live_owner))
                raise ChannelError("busy", 'all %d %s slots of channel "%s" are in use' % (count, role, self.name))
            slot = self._slot_offset(candidate)
            owner = self._mem.load64(slot + SLOT_OWNER_OFFSET)
            if owner & 0xFFFFFFFF in (ACTIVE, CLAIMING) and self._owner_alive(slot, owner):
                continue  # taken meanwhile
            if self._take(slot, owner, _owner(CLAIMING, self._pid)):
                self._mem.store64(slot + SLOT_START_TIME_OFFSET, self._start_time, _RELEASE)
                self._mem.store64(slot + SLOT_HEARTBEAT_OFFSET, int(time.time() * 1000), _RELEASE)
                if not resumed:
                    self._view[slot + SLOT_NAME_OFFSET:slot + SLOT_NAME_OFFSET + SLOT_NAME_LENGTH] = \
                        padded if padded is not None else bytes(SLOT_NAME_LENGTH)
                self._slot = slot
                self.slot_index = candidate - self.producer_slots
                # Usable although ACTIVE or CLAIMING: its owner died holding it.
                self._took_from_dead = owner & 0xFFFFFFFF in (ACTIVE, CLAIMING)
                return resumed
        raise ChannelError("busy", 'could not take a %s slot of channel "%s": it kept changing hands'
                           % (role, self.name))

    def _activate(self):
        # SYNC POINT: the release publishes the slot's position and start time together with its state.
        self._mem.store64(self._slot + SLOT_OWNER_OFFSET, _owner(ACTIVE, self._pid), _RELEASE)

    def _check_attachable(self):
        if self._map is None or self._slot is not None:
            raise ChannelError("invalid", "attach needs a channel that is open and not attached yet")

    def attach_consumer(self):
        """Joins a one-to-one or many-to-one channel as its consumer, resuming from the position the
        previous consumer committed (a message whose handler was running when a previous consumer
        was killed is delivered again: at-least-once)."""
        self._check_attachable()
        if self.kind == KIND_PUBLISH_SUBSCRIBE:
            raise ChannelError("kind", 'channel "%s" is publish-subscribe: attach as a subscriber' % self.name)
        self._acquire_slot(self.producer_slots, 1, None, "consumer")
        if self._took_from_dead:
            # The only consumer died: if it was asleep waiting for data, its count in "consumers
            # waiting" stayed, and every commit would wake nobody with a system call. Nobody else
            # on this side can be waiting (as Channel.consumer() in Java).
            self._mem.reset32(CONSUMERS_WAITING_OFFSET)
        self.messages = _s64(self._mem.load64(self._slot + SLOT_MESSAGES_OFFSET))
        self.position = _s64(self._mem.load64(self._slot + SLOT_POSITION_OFFSET, _ACQUIRE))
        self.lost_bytes = 0
        if self.kind == KIND_MANY_TO_ONE:
            self._finish_retiring()
        self._activate()

    def _finish_retiring(self):
        """A many-to-one predecessor that died while zeroing a record it had consumed (its handler
        had returned) left the record at our position half zeroed: finish the job, move past it."""
        retiring = self._mem.load64(self._slot + SLOT_RETIRING_OFFSET)
        length = _s32(retiring & 0xFFFFFFFF)
        index = self.position & self._mask
        if retiring >> 32 == self.position & 0xFFFFFFFF and RECORD_HEADER_LENGTH <= length <= self.capacity - index \
                and length & 7 == 0:
            self._view[self._data + index:self._data + index + length] = bytes(length)
            self.position += length
            self._mem.store64(self._slot + SLOT_POSITION_OFFSET, self.position, _RELEASE)

    def attach_subscriber(self, name=None):
        """Joins a publish-subscribe channel as a subscriber: anonymous (None) from the next message
        published; named (1 to 16 bytes of UTF-8), resuming where a subscriber of that name stopped
        if those messages are still there, else from the next one (``lost_bytes`` says how much
        was missed)."""
        self._check_attachable()
        if self.kind != KIND_PUBLISH_SUBSCRIBE:
            raise ChannelError("kind", 'channel "%s" is %s: attach as the consumer'
                               % (self.name, KIND_NAMES[self.kind]))
        encoded = None
        if name is not None:
            encoded = name.encode("utf-8")
            if not encoded or len(encoded) > SLOT_NAME_LENGTH or b"\0" in encoded:
                raise ChannelError("invalid", 'subscriber name "%s" must be 1 to %d bytes of UTF-8'
                                   % (name, SLOT_NAME_LENGTH))
        resumed = self._acquire_slot(self.producer_slots, self.consumer_slots, encoded, "subscriber")
        slot = self._slot
        if not resumed:
            self._mem.store64(slot + SLOT_MESSAGES_OFFSET, 0, _RELEASE)
        self.messages = _s64(self._mem.load64(slot + SLOT_MESSAGES_OFFSET))
        start = _s64(self._mem.load64(slot + SLOT_POSITION_OFFSET if resumed else TAIL_OFFSET, _ACQUIRE))
        missed = 0
        while True:
            # Never announce a position the producer is already known to have cleaned over (an
            # ACTIVE slot that far behind holds the producer back; openers would report corruption).
            if _s64(self._mem.load64(CLEAN_POSITION_OFFSET)) - start > self.capacity:
                tail = _s64(self._mem.load64(TAIL_OFFSET, _ACQUIRE))
                missed += tail - start
                start = tail
            self._mem.store64(slot + SLOT_POSITION_OFFSET, start, _RELEASE)
            self._activate()
            # SYNC POINT: full fence between announcing our position and reading how far the
            # producer has cleaned (pairs with the fence in ChannelProducer.clean).
            self._mem.fence()
            clean = _s64(self._mem.load64(CLEAN_POSITION_OFFSET))
            if clean - start <= self.capacity:
                break
            tail = _s64(self._mem.load64(TAIL_OFFSET, _ACQUIRE))
            missed += tail - start
            start = tail
        self.position = start
        self.lost_bytes = missed

    def detach(self):
        """Leaves the slot cleanly; its position stays, so the next consumer resumes after the last
        message this one consumed. Does nothing when not attached."""
        if self._slot is None:
            return
        if os.fstat(self._fd).st_size < self._slot + SLOT_LENGTH:
            # Truncated under us with the slot's page: nothing left to leave, and touching it
            # would kill the interpreter with SIGBUS.
            self._slot = None
            return
        mine = _owner(ACTIVE, self._pid)
        closed = _owner(CLOSED, self._pid)
        if isinstance(self._mem, _LibAtomic):
            self._mem.cas64(self._slot + SLOT_OWNER_OFFSET, mine, closed)
        elif self._mem.load64(self._slot + SLOT_OWNER_OFFSET) == mine:
            self._mem.store64(self._slot + SLOT_OWNER_OFFSET, closed)
        self._slot = None

    def close(self):
        """Detaches, unmaps and closes. A channel whose lifetime is "until last close" is removed
        when this was its last holder, as a Java holder's close would. Safe to call twice."""
        if self._map is not None:
            self.detach()
            if isinstance(self._mem, _Plain):
                self._mem.release()
            self._mem = None
            self._anchor = None
            self._view.release()
            self._map.close()
            self._map = None
        if self._fd >= 0:
            try:
                # Converting to exclusive succeeds only when no other holder is left.
                if getattr(self, "_last_close", False):
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    mine, now = os.fstat(self._fd), os.lstat(self.path)
                    if (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino):
                        os.unlink(self.path)
            except OSError:
                pass  # another holder is left, or the name is gone already
            os.close(self._fd)
            self._fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------------------------
    # Receiving

    def _corrupted_record(self, position, header, what):
        return ChannelError("corrupted", 'channel "%s" is corrupted: the record header at position %d (ring offset '
                                         "%d) is 0x%x, %s" % (self.name, position, position & self._mask, header,
                                                              what))

    def poll(self, handler, limit=64):
        """Delivers up to ``limit`` available messages to ``handler(type_id, payload_bytes)``, in
        order, without waiting; returns how many. Each message's position is committed as soon as
        its handler returns; a handler that raises leaves its message unconsumed (the next poll
        delivers it again) and the exception propagates. An exception raised by a signal while
        poll runs (KeyboardInterrupt) leaves the Channel usable: the message whose handler had
        returned is either committed or delivered again by the next poll, never lost."""
        if self._slot is None:
            raise ChannelError("invalid", "poll needs an attached consumer or subscriber")
        mem = self._mem
        data = self._data
        mask = self._mask
        position_word = self._slot + SLOT_POSITION_OFFSET
        many_to_one = self.kind == KIND_MANY_TO_ONE
        position = self.position
        count = 0
        advanced = False
        retiring = None
        try:
            while count < limit:
                index = position & mask
                # SYNC POINT: acquire load of the header; pairs with the producer's release store
                # (or CAS) that published the record, so the payload read below is complete.
                header = mem.load64(data + index, _ACQUIRE)
                length = _s32(header & 0xFFFFFFFF)
                if length <= 0:
                    if not advanced:
                        self._idle_polls += 1
                        if self._idle_polls >= _IDLE_POLLS_PER_CHECK:
                            self._idle_polls = 0
                            self._check_idle(position, header)
                    break
                type_id = _s32(header >> 32)
                if length < RECORD_HEADER_LENGTH or length > self.capacity - index:
                    raise self._corrupted_record(position, header, "a record length outside %d..%d"
                                                 % (RECORD_HEADER_LENGTH, self.capacity - index))
                if type_id == PADDING_TYPE and not many_to_one and length != self.capacity - index:
                    # A single producer pads only the rest of the ring.
                    raise self._corrupted_record(position, header, "padding that does not end at the ring's end")
                if type_id != PADDING_TYPE:
                    if type_id < 0 or length - RECORD_HEADER_LENGTH > self.max_message_length:
                        raise self._corrupted_record(position, header, "a type id or length no producer could write")
                    start = data + index + RECORD_HEADER_LENGTH
                    handler(type_id, self._map[start:data + index + length])
                aligned = _aligned(length)
                if many_to_one:
                    # Producers claim space by CAS from zero: give it back zeroed. The slot says
                    # first which record is being zeroed: if this process dies before the position
                    # below is committed, the header may be gone, and with it the record's length.
                    # From here the record is retired whatever happens: an exception raised in
                    # between (KeyboardInterrupt, a signal handler's) finishes it in `finally`, or
                    # this Channel would stand before a zeroed record that the tail is past.
                    retiring = (index, aligned, type_id != PADDING_TYPE, position + aligned)
                    mem.store64(self._slot + SLOT_RETIRING_OFFSET, (position & 0xFFFFFFFF) << 32 | aligned, _RELAXED)
                    mem.fence()
                    self._view[data + index:data + index + aligned] = bytes(aligned)
                position += aligned
                self.position = position
                advanced = True
                # SYNC POINT: release store of the position commits the message; producers read it
                # with an acquire load before reusing the space.
                mem.store64(position_word, position, _RELEASE)
                retiring = None
                if type_id != PADDING_TYPE:
                    count += 1
        finally:
            if retiring is not None:
                index, aligned, message, after = retiring
                self._view[data + index:data + index + aligned] = bytes(aligned)
                self.position = after
                advanced = True
                mem.store64(position_word, after, _RELEASE)
                if message:
                    count += 1
            if advanced:
                self._after_progress(count)
        return count

    def _after_progress(self, count):
        if count:
            self.messages += count
            self._mem.store64(self._slot + SLOT_MESSAGES_OFFSET, self.messages, _RELAXED)
        # SYNC POINT: store-load fence between committing the position and reading "producers
        # waiting" (pairs with ChannelProducer.awaitSpace).
        self._mem.fence()
        if self._mem.load32(PRODUCERS_WAITING_OFFSET) != 0:
            if isinstance(self._mem, _LibAtomic):
                self._mem.add32(SPACE_SIGNAL_OFFSET, 1)
            else:
                word = self._view[SPACE_SIGNAL_OFFSET:SPACE_SIGNAL_OFFSET + 4]
                word[:] = ((int.from_bytes(word, "little") + 1) & 0xFFFFFFFF).to_bytes(4, "little")
            self._futex(SPACE_SIGNAL_OFFSET, _FUTEX_WAKE, 0x7FFFFFFF, None)

    def _process_wide_barrier(self):
        """membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED): a full fence on every CPU running a thread
        of a process registered for it. True when done."""
        if _SYS_MEMBARRIER is None:
            return False
        return self._libc.syscall(ctypes.c_long(_SYS_MEMBARRIER), ctypes.c_int(_MEMBARRIER_CMD_GLOBAL_EXPEDITED),
                                  ctypes.c_uint(0), ctypes.c_int(0)) == 0

    def _futex(self, offset, op, value, timeout):
        if _SYS_FUTEX is None:
            return 0
        ts = None
        if timeout is not None:
            ts = ctypes.byref(_Timespec(int(timeout), int((timeout % 1) * 1e9)))
        return self._libc.syscall(ctypes.c_long(_SYS_FUTEX), ctypes.c_void_p(self._base + offset), ctypes.c_int(op),
                                  ctypes.c_uint32(value), ts, None, ctypes.c_int(0))

    def _check_idle(self, position, header):
        """The slow path of an empty poll: the heartbeat, and unfinished records in many-to-one."""
        now_ms = int(time.time() * 1000)
        if now_ms - self._last_heartbeat >= 100:
            self._last_heartbeat = now_ms
            self._mem.store64(self._slot + SLOT_HEARTBEAT_OFFSET, now_ms, _RELAXED)
        # A word that is not 0 yet names no record is never written (length 0, or negative outside
        # many-to-one): waiting on it would wait forever.
        if header != 0 and (self.kind != KIND_MANY_TO_ONE or header & 0xFFFFFFFF == 0):
            raise self._corrupted_record(position, header, "neither a record nor empty")
        if self.kind != KIND_MANY_TO_ONE:
            return
        if header == 0 and _s64(self._mem.load64(TAIL_OFFSET)) <= position:
            self._stuck_position = -1  # simply nothing to read
            return
        now = time.monotonic()
        if self._stuck_position != position:
            self._stuck_position = position
            self._stuck_since = now
            return
        stuck_for = now - self._stuck_since
        if stuck_for >= 0.001:
            self._skip_unfinished(position, header, stuck_for >= self.stuck_record_timeout)

    def _pad(self, word, expected, padding):
        if isinstance(self._mem, _LibAtomic):
            self._mem.cas64(word, expected, padding)
        elif self._mem.load64(word) == expected:
            # Only for dead producers: whoever else recovers this record writes the same word.
            self._mem.store64(word, padding)

    def _skip_unfinished(self, position, header, timed_out):
        """Turns a record its producer left unfinished into padding, when that producer is dead or
        (libatomic only) has kept it longer than the stuck-record timeout."""
        index = position & self._mask
        word = self._data + index
        length = _s32(header & 0xFFFFFFFF)
        stuck_too_long = timed_out
        if timed_out and isinstance(self._mem, _Plain):
            timed_out = False
        if length < 0:
            record_length = -length
            producer = _s32(header >> 32)
            if producer < 0 or producer >= self.producer_slots or record_length < RECORD_HEADER_LENGTH \
                    or record_length > self.capacity - index:
                raise self._corrupted_record(position, header,
                                             "an unfinished record with an impossible producer or length")
            slot = self._slot_offset(producer)
            owner = self._mem.load64(slot + SLOT_OWNER_OFFSET)
            if timed_out or not self._owner_alive(slot, owner):
                self._pad(word, header, _record_header(record_length, PADDING_TYPE))
            return
        # Header still zero although the tail moved past: a producer claimed the space and did
        # not write the header. Its slot says how long the claim was. A slot left cleanly (CLOSED)
        # has no such claim, whatever position it still shows; a live producer showing this
        # position may be the claimant, about to write the header: wait for it.
        pad = 0
        for i in range(self.producer_slots):
            slot = self._slot_offset(i)
            if _s64(self._mem.load64(slot + SLOT_POSITION_OFFSET)) != position:
                continue
            claim = _s32(self._mem.load32(slot + SLOT_CLAIM_LENGTH_OFFSET))
            owner = self._mem.load64(slot + SLOT_OWNER_OFFSET)
            if owner & 0xFFFFFFFF not in (ACTIVE, CLAIMING):
                continue
            if self._owner_alive(slot, owner):
                return
            if pad == 0 and RECORD_HEADER_LENGTH <= claim <= self.capacity - index and claim & 7 == 0:
                pad = claim
        if pad:
            self._pad(word, 0, _record_header(pad, PADDING_TYPE))
        elif stuck_too_long:
            # No producer, live or dead, says it claimed this space: nobody will write here.
            raise self._corrupted_record(position, header,
                                         "no record although the tail is past it, and no producer slot claims it")

    def _check_not_truncated(self):
        """The segment's file shrank below the ring (truncated by another process): reading the
        missing pages would kill the interpreter with SIGBUS, which Python cannot catch. One fstat,
        for the waiting path only."""
        needed = self._data + self.capacity
        size = os.fstat(self._fd).st_size
        if size < needed:
            raise ChannelError("corrupted", 'channel "%s" was truncated under this process: it is %d bytes, its '
                                            "header needs %d; its missing pages cannot be read"
                               % (self.name, size, needed))
        return size

    def _available(self):
        header = self._mem.load64(self._data + (self.position & self._mask), _ACQUIRE)
        return _s32(header & 0xFFFFFFFF) > 0

    def await_messages(self, timeout):
        """Waits up to ``timeout`` seconds until a message may be available: with libatomic it
        sleeps in the kernel on the channel's futex word until a producer commits (in 10 ms slices,
        to notice unfinished records of dead producers); in plain mode it polls every 1 ms.
        Returns True when a message is available, False when the time passed first."""
        if self._slot is None:
            raise ChannelError("invalid", "await needs an attached consumer or subscriber")
        deadline = time.monotonic() + timeout
        futex = isinstance(self._mem, _LibAtomic) and _SYS_FUTEX is not None
        while True:
            self._check_not_truncated()
            left = deadline - time.monotonic()
            if self._available():
                return True
            if left <= 0:
                return False
            if futex:
                self._mem.add32(CONSUMERS_WAITING_OFFSET, 1)
                try:
                    # SYNC POINT: the atomic increment is a full fence on this side; the process-wide
                    # barrier then runs one on every CPU running a producer that skips its commit
                    # fence (Java producers whose process registered for it), as the C consumer
                    # does: either its record is visible to the check below, or it sees us waiting
                    # and bumps the signal. Where the barrier fails, short slices bound what a
                    # missed wake-up costs. Many-to-one producers commit with a CAS, a full fence.
                    barrier = self.kind == KIND_MANY_TO_ONE or self._process_wide_barrier()
                    seq = self._mem.load32(DATA_SIGNAL_OFFSET)
                    if self._available():
                        return True
                    self._futex(DATA_SIGNAL_OFFSET, _FUTEX_WAIT, seq, min(left, _SLICE if barrier else 0.001))
                finally:
                    # Where the count's word is still in the file (truncated or not).
                    if os.fstat(self._fd).st_size >= CONSUMERS_WAITING_OFFSET + 4:
                        self._mem.add32(CONSUMERS_WAITING_OFFSET, -1)
            else:
                time.sleep(min(left, 0.001))
            self._check_not_truncated()
            header = self._mem.load64(self._data + (self.position & self._mask), _ACQUIRE)
            if _s32(header & 0xFFFFFFFF) <= 0:
                self._check_idle(self.position, header)

    def receive(self, timeout):
        """Waits up to ``timeout`` seconds for the next message: (type_id, payload) or None."""
        got = []
        deadline = time.monotonic() + timeout
        while not got:
            if self.poll(lambda type_id, payload: got.append((type_id, payload)), 1) == 0:
                left = deadline - time.monotonic()
                if left <= 0 or not self.await_messages(left):
                    self.poll(lambda type_id, payload: got.append((type_id, payload)), 1)
                    break
        return got[0] if got else None


# ----------------------------------------------------------------------------------------------
# Command line

_EXIT_CODES = {"not-found": 3, "access": 5, "invalid": 2}


def format_message(type_id, payload):
    """One output line: TYPE<TAB>LENGTH<TAB>PAYLOAD, as the C example prints it."""
    text = all(0x20 <= b <= 0x7E for b in payload) and not payload.startswith(b"hex:")
    body = payload if text else b"hex:" + payload.hex().encode("ascii")
    return b"%d\t%d\t%s\n" % (type_id, len(payload), body)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="shmkit_channel.py",
                                     description="Print the messages of a shmkit channel, one per line: "
                                                 "TYPE<TAB>LENGTH<TAB>PAYLOAD (text, or hex: and hex digits).")
    parser.add_argument("name", help="the channel's segment name")
    parser.add_argument("--count", type=int, help="stop after this many messages (exit 6 if they do not come "
                                                  "before the timeout)")
    parser.add_argument("--timeout", type=float, help="stop after this many seconds")
    parser.add_argument("--subscriber", nargs="?", const="", metavar="NAME",
                        help="publish-subscribe: join as a subscriber, named NAME to resume where it stopped")
    parser.add_argument("--allow-foreign", action="store_true", help="open a channel owned by another user")
    parser.add_argument("--atomics", choices=("auto", "libatomic", "plain"), default="auto",
                        help="how shared words are accessed (see the module's docstring)")
    args = parser.parse_args(argv)
    # As the C example: a usage error (exit 2), not a run that silently does nothing.
    if args.count is not None and args.count < 0:
        parser.error("--count needs a number of messages, 0 or more")
    if args.timeout is not None and not args.timeout >= 0:
        parser.error("--timeout needs a number of seconds, 0 or more")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    out = sys.stdout.buffer
    printed = 0
    try:
        with Channel(args.name, allow_foreign_owner=args.allow_foreign, atomics=args.atomics) as ch:
            if ch.kind == KIND_PUBLISH_SUBSCRIBE or args.subscriber is not None:
                ch.attach_subscriber(args.subscriber or None)
            else:
                ch.attach_consumer()
            if ch.lost_bytes:
                print("shmkit_channel.py: subscriber \"%s\" missed %d bytes of messages while it was away"
                      % (args.subscriber, ch.lost_bytes), file=sys.stderr)

            def emit(type_id, payload):
                out.write(format_message(type_id, payload))

            deadline = None if args.timeout is None else time.monotonic() + args.timeout
            while args.count is None or printed < args.count:
                limit = 256 if args.count is None else min(256, args.count - printed)
                got = ch.poll(emit, limit)
                printed += got
                if got:
                    continue
                out.flush()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    if args.count is not None:
                        print("shmkit_channel.py: timed out after %g s: received %d of %d messages"
                              % (args.timeout, printed, args.count), file=sys.stderr)
                        return 6
                    break
                ch.await_messages(0.1 if left is None else min(left, 0.1))
    except ChannelError as e:
        print("shmkit_channel.py: %s" % e, file=sys.stderr)
        return _EXIT_CODES.get(e.reason, 1)
    except KeyboardInterrupt:
        return 130
    finally:
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
