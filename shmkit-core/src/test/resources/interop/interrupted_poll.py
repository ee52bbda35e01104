"""A Python consumer of a many-to-one channel interrupted (KeyboardInterrupt, as SIGINT raises it)
at the worst moment of a poll: after it zeroed a consumed record, before it committed the position
past it. The program catches the interrupt and goes on polling the same Channel, as an interactive
program may: it must get the next message, not stand before a zeroed record the tail is past.

    interrupted_poll.py MODULE_DIR CHANNEL COUNT
"""
import sys
import time

sys.path.insert(0, sys.argv[1])
import shmkit_channel  # noqa: E402

name, count = sys.argv[2], int(sys.argv[3])
out = sys.stdout.buffer
got = []
with shmkit_channel.Channel(name, stuck_record_timeout=1.0) as ch:
    ch.attach_consumer()
    data_offset = ch._data

    class InterruptedOnce:
        """The Channel's view of the segment; the first write into the ring (zeroing the record
        just consumed) is done, then the signal arrives, before the position moves past it."""

        def __init__(self, view):
            self.view = view
            self.armed = True

        def __getitem__(self, key):
            return self.view[key]

        def __setitem__(self, key, value):
            self.view[key] = value
            if self.armed and isinstance(key, slice) and key.start >= data_offset:
                self.armed = False
                raise KeyboardInterrupt

        def release(self):
            self.view.release()

    ch._view = InterruptedOnce(ch._view)
    deadline = time.monotonic() + 30
    while len(got) < count and time.monotonic() < deadline:
        try:
            if ch.poll(lambda type_id, payload: got.append((type_id, payload))) == 0:
                ch.await_messages(0.1)
        except KeyboardInterrupt:
            out.write(b"INTERRUPTED\n")
    for type_id, payload in got:
        out.write(shmkit_channel.format_message(type_id, payload))
    out.write(b"POSITION %d\n" % ch.position)
sys.exit(0 if len(got) == count else 6)
