package io.shmkit.cli;

import io.shmkit.Lifetime;
import io.shmkit.SegmentInfo;
import io.shmkit.SegmentKind;

import java.util.Map;
import java.util.stream.Collectors;

/**
 * How {@code ls}, {@code info} and {@code create} show a segment, in words and as JSON, so that
 * the three agree.
 */
final class SegmentFormat {

    private SegmentFormat() {
    }

    /**
     * The lifetime in one word: {@code persistent}, {@code last-close}, or {@code external} for a
     * segment made by another program (which shmkit treats as persistent).
     *
     * @param info the segment
     * @return the word
     */
    static String lifetime(SegmentInfo info) {
        if (!info.managed()) {
            return "external";
        }
        return info.lifetime() == Lifetime.PERSISTENT ? "persistent" : "last-close";
    }

    /**
     * The lifetime with what it means for this segment.
     *
     * @param info the segment
     * @return a sentence fragment
     */
    static String lifetimeExplained(SegmentInfo info) {
        if (!info.managed()) {
            return "made by another program: stays until `shm rm " + info.name() + "` (or shm_unlink) removes it";
        }
        if (info.lifetime() == Lifetime.PERSISTENT) {
            return "persistent: stays until `shm rm " + info.name() + "` removes it";
        }
        return "until last close: removed when the last process holding it closes it or dies";
    }

    /**
     * The permissions as {@code ls -l} and {@code chmod} write them.
     *
     * @param info the segment
     * @return e.g. {@code rw------- (0600)}
     */
    static String permissions(SegmentInfo info) {
        return info.permissionsString() + " (" + octal(info) + ")";
    }

    /**
     * The holders in words.
     *
     * @param info the segment
     * @return e.g. {@code 2 (pids 120, 131)} or {@code none}
     */
    static String holders(SegmentInfo info) {
        if (info.holders() == 0) {
            return info.stale() ? "none: every holder died, so it is stale (`shm rm --stale` removes it)" : "none";
        }
        String pids = info.holderPids().stream().map(String::valueOf).collect(Collectors.joining(", "));
        return info.holders() + (info.holders() == 1 ? " (pid " : " (pids ") + pids + ")";
    }

    /**
     * Everything known of a segment, as a JSON object.
     *
     * @param info the segment
     * @return the object's fields in a stable order
     */
    static Map<String, Object> json(SegmentInfo info) {
        Map<String, Object> o = Json.object();
        o.put("name", info.name());
        o.put("path", info.path());
        o.put("size", info.size());
        o.put("ownerUid", info.ownerUid());
        o.put("owner", info.ownerName());
        o.put("permissions", octal(info));
        o.put("mode", info.permissionsString());
        o.put("lifetime", info.lifetime());
        o.put("managed", info.managed());
        o.put("holders", info.holders());
        o.put("holderPids", info.holderPids());
        o.put("stale", info.stale());
        o.put("kind", info.kind().label());
        if (info.kind() != SegmentKind.DATA) {
            o.put("state", info.state());
            o.put("stateSummary", info.stateSummary());
        }
        return o;
    }

    /**
     * What the segment holds, in words: {@code data}, or a synchronization object and its state.
     *
     * @param info the segment
     * @return e.g. {@code mutex: locked by pid 4242 (alive)}
     */
    static String kind(SegmentInfo info) {
        return info.kind() == SegmentKind.DATA ? "data"
                : info.kind().label() + (info.stateSummary().isEmpty() ? "" : ": " + info.stateSummary());
    }

    private static String octal(SegmentInfo info) {
        return String.format("%04o", info.permissions());
    }
}
