package io.shmkit.internal.layout;

import io.shmkit.SegmentFormatException;
import io.shmkit.internal.os.OsBackend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads what a segment's first bytes say it holds, for {@code shm info} and {@code shm ls}: the
 * kind of primitive and its state (who holds a mutex, whether an event is set, ...). Works on a
 * racy copy of the bytes ({@link OsBackend#peek}), never on a mapping, so inspecting a segment
 * neither holds nor changes it.
 */
public final class Inspector {

    private Inspector() {
    }

    /** How many bytes of a segment {@link #describe} needs. */
    public static final int HEAD_BYTES = (int) SeqLockDescriptor.PAYLOAD_OFFSET;

    /**
     * What the first bytes of a segment hold.
     *
     * @param kind "mutex", "event", "semaphore", "seqlock", "channel", or null for plain data
     * @param state named values describing the state (empty for plain data); "problem" when the
     *              bytes are not valid
     * @param summary the state in words, e.g. "locked by pid 1234 (alive)"; empty for plain data
     */
    public record Description(String kind, Map<String, Object> state, String summary) {
    }

    /** The description of a segment whose first bytes (up to {@link #HEAD_BYTES}) are {@code head}. */
    public static Description describe(byte[] head, long segmentSize, OsBackend os) {
        if (head == null || head.length < HeaderDescriptor.SIZE) {
            return new Description(null, Map.of(), "");
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        if (head.length >= ChannelDescriptor.CLEAN_POSITION_OFFSET && b.getLong(0) == ChannelDescriptor.MAGIC) {
            Map<String, Object> state = new LinkedHashMap<>();
            return new Description("channel", Collections.unmodifiableMap(state), channel(b, segmentSize, state));
        }
        int magic = b.getInt(0);
        String kind = HeaderDescriptor.kindOf(magic);
        if (kind == null) {
            return new Description(null, Map.of(), "");
        }
        Map<String, Object> state = new LinkedHashMap<>();
        int version = Short.toUnsignedInt(b.getShort(4));
        state.put("layoutVersion", version);
        String summary;
        if (version != 1) {
            summary = problem(state, "layout version " + version + ", this shmkit reads version 1");
        } else {
            summary = switch (kind) {
                case "mutex" -> mutex(b, 0, segmentSize, state, os);
                case "event" -> event(b, segmentSize, state);
                case "semaphore" -> semaphore(b, segmentSize, state);
                default -> seqlock(b, segmentSize, state, os);
            };
            String refused = state.containsKey("problem") ? null : refusal(kind, head, segmentSize);
            if (refused != null) {
                state.keySet().retainAll(Set.of("layoutVersion"));
                summary = problem(state, refused);
            }
        }
        return new Description(kind, Collections.unmodifiableMap(state), summary);
    }

    /**
     * Why opening the primitive would refuse these bytes (the checks of {@code attach} and
     * {@code open}, which look at more than the state described here: unknown flags, negative
     * waiter counts, a length beyond the capacity...), or null when it would not.
     */
    private static String refusal(String kind, byte[] head, long segmentSize) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mem = arena.allocate(head.length, 8);
            MemorySegment.copy(head, 0, mem, ValueLayout.JAVA_BYTE, 0, head.length);
            switch (kind) {
                case "mutex" -> MutexDescriptor.check(mem, "", 0);
                case "event" -> EventDescriptor.check(mem, "", 0);
                case "semaphore" -> SemaphoreDescriptor.check(mem, "", 0);
                default -> SeqLockDescriptor.check(mem, segmentSize, "", 0);
            }
            return null;
        } catch (SegmentFormatException e) {
            // The message names the segment and offset ("segment "", offset 0: "): keep the problem.
            return e.getMessage().replaceFirst("^segment \"\", offset \\d+: ", "");
        }
    }

    /** A channel's header (participants lie beyond the bytes inspected: {@code shm stat} shows them). */
    private static String channel(ByteBuffer b, long segmentSize, Map<String, Object> state) {
        int version = b.getInt((int) ChannelDescriptor.VERSION_OFFSET);
        state.put("layoutVersion", version);
        if (version != ChannelDescriptor.VERSION) {
            return problem(state, "channel layout version " + version + ", this shmkit reads version "
                    + ChannelDescriptor.VERSION);
        }
        int kind = b.getInt((int) ChannelDescriptor.KIND_OFFSET);
        long capacity = b.getLong((int) ChannelDescriptor.CAPACITY_OFFSET);
        long tail = b.getLong((int) ChannelDescriptor.TAIL_OFFSET);
        state.put("channelKind", ChannelDescriptor.kindName(kind));
        state.put("capacity", capacity);
        state.put("maxMessageLength", b.getInt((int) ChannelDescriptor.MAX_MESSAGE_LENGTH_OFFSET));
        state.put("tail", tail);
        if (capacity <= 0 || capacity > segmentSize) {
            return problem(state, "capacity " + capacity + " does not fit a segment of " + segmentSize + " bytes");
        }
        String ring = capacity >= 1 << 20 ? (capacity >> 20) + " MiB" : (capacity >> 10) + " KiB";
        return ChannelDescriptor.kindName(kind) + ", " + ring + " ring, " + tail
                + " bytes written (`shm stat` shows its participants)";
    }

    private static String problem(Map<String, Object> state, String problem) {
        state.put("problem", problem);
        return "invalid: " + problem;
    }

    private static String mutex(ByteBuffer b, int at, long segmentSize, Map<String, Object> state, OsBackend os) {
        if (b.limit() < at + MutexDescriptor.SIZE || segmentSize < at + MutexDescriptor.SIZE) {
            return problem(state, "too small for a mutex");
        }
        long word = b.getLong(at + (int) MutexDescriptor.LOCK_WORD_OFFSET);
        int consistency = b.getInt(at + (int) MutexDescriptor.STATE_OFFSET);
        long abandoned = b.getLong(at + (int) MutexDescriptor.ABANDON_COUNT_OFFSET);
        int deadPid = b.getInt(at + (int) MutexDescriptor.DEAD_OWNER_PID_OFFSET);
        String wordProblem = MutexDescriptor.problemWithWord(word);
        if (wordProblem != null) {
            return problem(state, wordProblem);
        }
        if (consistency != MutexDescriptor.CONSISTENT && consistency != MutexDescriptor.INCONSISTENT) {
            return problem(state, "the state word holds " + consistency);
        }
        boolean locked = word != 0;
        boolean consistent = consistency == MutexDescriptor.CONSISTENT;
        state.put("locked", locked);
        StringBuilder s = new StringBuilder();
        if (locked) {
            int pid = MutexDescriptor.ownerPid(word);
            boolean alive = os.mayBeAlive(pid, MutexDescriptor.ownerStartLow32(word));
            state.put("ownerPid", pid);
            state.put("ownerAlive", alive);
            long ownerThread = b.getLong(at + (int) MutexDescriptor.OWNER_THREAD_OFFSET);
            // A Java holder writes its pid beside its thread id; a C holder writes its tid alone.
            state.put("ownerThread", MutexDescriptor.ownerThreadPid(ownerThread) == pid
                    ? MutexDescriptor.ownerThreadId(ownerThread) : ownerThread);
            state.put("waiters", (word & MutexDescriptor.WAITERS) != 0);
            s.append("locked by pid ").append(pid)
                    .append(alive ? " (alive)" : " (dead: the next locker takes it over)");
            if ((word & MutexDescriptor.WAITERS) != 0) {
                s.append(", with waiters");
            }
        } else {
            s.append("free");
        }
        state.put("consistent", consistent);
        state.put("abandonCount", abandoned);
        state.put("lastDeadOwnerPid", deadPid);
        if (!consistent) {
            s.append("; inconsistent: an owner died holding it and nobody marked it consistent since");
        }
        if (abandoned > 0) {
            s.append("; taken over from dead owners ").append(abandoned).append(abandoned == 1 ? " time" : " times")
                    .append(" (last: pid ").append(deadPid).append(")");
        }
        return s.toString();
    }

    private static String event(ByteBuffer b, long segmentSize, Map<String, Object> state) {
        if (b.limit() < EventDescriptor.SIZE || segmentSize < EventDescriptor.SIZE) {
            return problem(state, "too small for an event");
        }
        boolean manual = (Short.toUnsignedInt(b.getShort(6)) & EventDescriptor.FLAG_MANUAL_RESET) != 0;
        int word = b.getInt((int) EventDescriptor.STATE_OFFSET);
        int waiters = b.getInt((int) EventDescriptor.WAITERS_OFFSET);
        boolean set = (word & EventDescriptor.SIGNALED) != 0;
        state.put("manualReset", manual);
        state.put("set", set);
        state.put("sets", Integer.toUnsignedLong(word) >>> 1);
        state.put("waiters", waiters);
        return (manual ? "manual reset, " : "auto reset, ") + (set ? "set" : "unset")
                + (waiters > 0 ? ", " + waiters + " waiting" : "");
    }

    private static String semaphore(ByteBuffer b, long segmentSize, Map<String, Object> state) {
        if (b.limit() < SemaphoreDescriptor.SIZE || segmentSize < SemaphoreDescriptor.SIZE) {
            return problem(state, "too small for a semaphore");
        }
        int count = b.getInt((int) SemaphoreDescriptor.COUNT_OFFSET);
        int max = b.getInt((int) SemaphoreDescriptor.MAX_OFFSET);
        int waiters = b.getInt((int) SemaphoreDescriptor.WAITERS_OFFSET);
        if (max < 1 || count < 0 || count > max) {
            return problem(state, "count " + count + " of max " + max);
        }
        state.put("count", count);
        state.put("max", max);
        state.put("waiters", waiters);
        return count + " of " + max + " permits available" + (waiters > 0 ? ", " + waiters + " waiting" : "");
    }

    private static String seqlock(ByteBuffer b, long segmentSize, Map<String, Object> state, OsBackend os) {
        if (b.limit() < SeqLockDescriptor.PAYLOAD_OFFSET) {
            return problem(state, "too small for a seqlock");
        }
        long capacity = Integer.toUnsignedLong(b.getInt((int) SeqLockDescriptor.CAPACITY_OFFSET));
        long sequence = b.getLong((int) SeqLockDescriptor.SEQUENCE_OFFSET);
        long length = Integer.toUnsignedLong(b.getInt((int) SeqLockDescriptor.LENGTH_OFFSET));
        int followers = b.getInt((int) SeqLockDescriptor.FOLLOWERS_OFFSET);
        if (capacity < 1 || SeqLockDescriptor.size(capacity) > segmentSize) {
            return problem(state, "capacity " + capacity + " does not fit in the segment of " + segmentSize + " bytes");
        }
        boolean writing = (sequence & 1) != 0;
        long version = writing ? (sequence - 1) >>> 1 : sequence >>> 1;
        state.put("capacity", capacity);
        state.put("version", version);
        state.put("length", length);
        state.put("writing", writing);
        state.put("followers", followers);
        Map<String, Object> writer = new LinkedHashMap<>();
        String writerSummary = mutex(b, (int) SeqLockDescriptor.WRITER_MUTEX_OFFSET, segmentSize, writer, os);
        state.put("writerPid", writer.getOrDefault("ownerPid", 0));
        StringBuilder s = new StringBuilder("version ").append(version);
        if (!writing) {
            s.append(", ").append(length).append(" of ").append(capacity).append(" bytes");
        } else {
            s.append(", capacity ").append(capacity).append(" bytes; a write is in progress (writer ")
                    .append(writerSummary).append(")");
        }
        if (followers > 0) {
            s.append(", ").append(followers).append(" following");
        }
        return s.toString();
    }
}
