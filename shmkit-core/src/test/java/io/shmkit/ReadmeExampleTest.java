package io.shmkit;

import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java example in README.md compiles and does what it says. */
class ReadmeExampleTest {

    @TempDir
    Path dir;

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    @Test
    void readmeExampleCompilesAndRuns() throws IOException {
        Path readme = Path.of("..", "README.md");
        String text = Files.readString(readme);
        int start = text.indexOf("<!-- example:start -->");
        int end = text.indexOf("<!-- example:end -->");
        assertTrue(start >= 0 && end > start, "README.md has the example markers");
        String block = text.substring(start, end);
        String code = block.substring(block.indexOf("```java") + "```java".length(), block.lastIndexOf("```"));
        long lines = code.lines().filter(l -> !l.isBlank()).count();
        assertTrue(lines <= 15, "the example stays short: " + lines + " lines");

        String name = names.unique("readme");
        Path source = dir.resolve("Hello.java");
        Files.writeString(source, code.replace("\"hello-demo\"", "\"" + name + "\""));
        String javac = Path.of(System.getProperty("java.home"), "bin", "javac").toString();
        try (ChildProcess p = ChildProcess.start(List.of(javac, "-d", dir.toString(), "-cp",
                System.getProperty("java.class.path"), source.toString()))) {
            p.waitForSuccess();
        }

        List<String> cmd = new ArrayList<>(ChildProcess.javaCommand());
        int cp = cmd.indexOf("-cp") + 1;
        cmd.set(cp, dir + java.io.File.pathSeparator + cmd.get(cp));
        cmd.add("Hello");
        try (ChildProcess p = ChildProcess.start(cmd)) {
            assertEquals("Hello from Java", p.await(l -> true, "the example's output"));
            p.waitForSuccess();
        }
        assertFalse(SharedMemory.exists(name), "the example's segment is gone after its last close");
    }
}
