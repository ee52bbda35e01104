package io.shmkit.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Peer programs in other languages: Python scripts (standard library only) and C programs built
 * with the system compiler, either copied out of the test resources or taken from the repository
 * itself (the shipped {@code native/} files, so that the tests exercise exactly what users get).
 * Tests that need a missing tool are skipped with the reason.
 */
public final class NativePeers {
    private NativePeers() {
    }

    /** Copies a test resource into {@code dir}. */
    public static Path resource(String name, Path dir) throws IOException {
        try (InputStream in = NativePeers.class.getResourceAsStream("/interop/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource /interop/" + name);
            }
            Path target = dir.resolve(name);
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        }
    }

    /** Skips the test when python3 is missing (for tests that run {@code python3 -c SCRIPT} themselves). */
    public static void requirePython() {
        requireTool("python3", "--version");
    }

    /** The command that runs a Python peer script; skips the test when python3 is missing. */
    public static List<String> python(String script, Path dir) throws IOException {
        requireTool("python3", "--version");
        return List.of("python3", resource(script, dir).toString());
    }

    /** Compiles a C peer (plus any extra sources) with the system compiler and returns the binary. */
    public static List<String> c(String source, Path dir, String... extraArgs) throws IOException {
        requireTool("cc", "--version");
        return compile(resource(source, dir), dir, extraArgs);
    }

    /**
     * Compiles a C++ peer with the system C++ compiler ({@code c++}) under the standard {@code std}
     * ("c++17") and returns the binary; skips the test when there is no C++ compiler.
     */
    public static List<String> cxx(String source, Path dir, String std, String... extraArgs) throws IOException {
        requireTool("c++", "--version");
        Path src = resource(source, dir);
        Path binary = dir.resolve(source.replace(".cpp", "") + "-" + std.replace("+", "x"));
        List<String> cmd = new ArrayList<>(List.of("c++", "-O2", "-Wall", "-Wextra", "-Werror", "-std=" + std,
                "-o", binary.toString(), src.toString()));
        cmd.addAll(List.of(extraArgs));
        run(cmd, "compiling " + source + " as " + std);
        return List.of(binary.toString());
    }

    /**
     * Compiles a C program of the repository (e.g. {@code native/examples/channel_consumer.c}) and
     * returns the binary; {@code extraArgs} may use {@link #repoPath} for include directories.
     */
    public static List<String> cFromRepo(String source, Path dir, String... extraArgs) throws IOException {
        requireTool("cc", "--version");
        return compile(repoPath(source), dir, extraArgs);
    }

    /** The command that runs a Python script of the repository; skips the test when python3 is missing. */
    public static List<String> pythonFromRepo(String script) {
        requireTool("python3", "--version");
        return List.of("python3", repoPath(script).toString());
    }

    /**
     * A file or directory of the repository, found from the working directory upwards (tests run
     * in the module's directory, {@code shmkit-core}).
     */
    public static Path repoPath(String relative) {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve(relative);
            if (Files.exists(candidate) && Files.exists(d.resolve("pom.xml"))) {
                return candidate;
            }
        }
        throw new AssertionError(relative + " not found above " + Path.of("").toAbsolutePath());
    }

    private static List<String> compile(Path src, Path dir, String... extraArgs) throws IOException {
        String file = src.getFileName().toString();
        Path binary = dir.resolve(file.replace(".c", ""));
        List<String> cmd = new ArrayList<>(List.of("cc", "-O2", "-Wall", "-Werror", "-std=c11", "-D_GNU_SOURCE",
                "-o", binary.toString(), src.toString()));
        cmd.addAll(List.of(extraArgs));
        cmd.add("-lrt");
        run(cmd, "compiling " + file);
        return List.of(binary.toString());
    }

    private static void requireTool(String tool, String versionFlag) {
        boolean ok;
        try {
            Process p = new ProcessBuilder(tool, versionFlag).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            ok = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
        }
        Assumptions.assumeTrue(ok, tool + " is not installed: skipping the interop test that needs it");
    }

    private static void run(List<String> cmd, String what) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(what + " failed: " + String.join(" ", cmd) + "\n" + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while " + what, e);
        }
    }
}
