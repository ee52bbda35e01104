"""Interop peer for shmkit's tests: Python's standard library only (multiprocessing.shared_memory).

  segment_peer.py read NAME         attach to NAME, print "READ <text at 0>", write a reply at 1024
  segment_peer.py create NAME SIZE  create NAME, write at 0, print READY, wait for a line on stdin,
                                    print "READ <text at 1024>", then unlink NAME
"""
import sys
from multiprocessing import resource_tracker, shared_memory

REPLY_OFFSET = 1024


def c_string(buf, offset):
    end = bytes(buf[offset:]).find(b"\0")
    return bytes(buf[offset:offset + end]).decode("utf-8")


def put_c_string(buf, offset, text):
    data = text.encode("utf-8") + b"\0"
    buf[offset:offset + len(data)] = data


def main():
    mode, name = sys.argv[1], sys.argv[2]
    if mode == "read":
        shm = shared_memory.SharedMemory(name=name)
        # Python 3.8-3.12 would unlink a segment it only attached to when it exits (cpython#82300).
        resource_tracker.unregister(shm._name, "shared_memory")
        print("SIZE", shm.size, flush=True)
        print("READ", c_string(shm.buf, 0), flush=True)
        put_c_string(shm.buf, REPLY_OFFSET, "hello from python")
        shm.close()
        print("OK", flush=True)
    elif mode == "create":
        shm = shared_memory.SharedMemory(name=name, create=True, size=int(sys.argv[3]))
        put_c_string(shm.buf, 0, "python made this")
        print("READY", flush=True)
        sys.stdin.readline()
        print("READ", c_string(shm.buf, REPLY_OFFSET), flush=True)
        shm.close()
        shm.unlink()
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
