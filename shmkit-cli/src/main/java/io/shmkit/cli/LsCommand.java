package io.shmkit.cli;

import io.shmkit.SegmentInfo;
import io.shmkit.SegmentKind;
import io.shmkit.SharedMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code shm ls}: lists the segments of this machine.
 */
@Command(name = "ls",
        description = {
            "List the named segments this user can see: name, size, owner, mode, lifetime, how many processes "
                + "hold each open through shmkit, and the kind of a named synchronization object (mutex, event, "
                + "semaphore, seqlock; `shm info NAME` shows its state).",
            "Lifetimes: persistent (until `shm rm`), last-close (removed when its last holder closes), external "
                + "(made by another program; treated as persistent). A stale segment (last-close, but every holder "
                + "died) is marked; `shm rm --stale` removes them."})
final class LsCommand implements Callable<Integer> {

    private static final String[] HEADINGS = {"NAME", "SIZE", "OWNER", "MODE", "LIFETIME", "HOLDERS", "KIND"};

    @Spec
    private CommandSpec spec;

    @Mixin
    private JsonOption json;

    /** Created by picocli. */
    LsCommand() {
    }

    @Override
    public Integer call() throws IOException {
        List<SegmentInfo> segments = SharedMemory.list();
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            out.println(Json.write(segments.stream().map(SegmentFormat::json).toList()));
            return ExitCodes.OK;
        }
        if (segments.isEmpty()) {
            out.println("no segments");
            return ExitCodes.OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADINGS);
        boolean anyStale = false;
        for (SegmentInfo s : segments) {
            // Plain data leaves KIND empty (the line then ends after HOLDERS, as it always did).
            rows.add(new String[] {visible(s.name()), ByteSizes.human(s.size()), s.ownerName(), s.permissionsString(),
                SegmentFormat.lifetime(s), s.holders() + (s.stale() ? "  stale" : ""),
                s.kind() == SegmentKind.DATA ? "" : s.kind().label()});
            anyStale |= s.stale();
        }
        int[] widths = new int[HEADINGS.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + widths[i] + "s  ", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        if (anyStale) {
            out.println("stale: every holder died without removing it; `shm rm --stale` removes it");
        }
        return ExitCodes.OK;
    }

    /**
     * A name as the table shows it: other programs may give a segment any name, and a line break
     * or other control or invisible character in it is shown as its code point (a line feed as a
     * backslash and u000a), so that one segment is one row whatever its name (JSON output escapes
     * such characters itself).
     */
    static String visible(String name) {
        StringBuilder b = new StringBuilder(name.length());
        name.codePoints().forEach(cp -> {
            boolean invisible = Character.isISOControl(cp) || Character.isWhitespace(cp) && cp != ' '
                    || switch (Character.getType(cp)) {
                        case Character.FORMAT, Character.UNASSIGNED, Character.SURROGATE, Character.PRIVATE_USE,
                             Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> true;
                        default -> false;
                    };
            if (invisible) {
                b.append(String.format("\\u%04x", cp));
            } else {
                b.appendCodePoint(cp);
            }
        });
        return b.toString();
    }
}
