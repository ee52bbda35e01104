package io.shmkit.bench.suite;

import java.util.LinkedHashMap;
import java.util.Map;

/** A child process's settings: {@code --key value} pairs from the orchestrator. */
final class Config {
    final Map<String, String> values = new LinkedHashMap<>();

    static Config parse(String[] args) {
        Config c = new Config();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + a);
            }
            int eq = a.indexOf('=');
            if (eq > 0) {
                c.values.put(a.substring(2, eq), a.substring(eq + 1));
            } else {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value for " + a);
                }
                c.values.put(a.substring(2), args[++i]);
            }
        }
        return c;
    }

    String get(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + key);
        }
        return v;
    }

    String get(String key, String otherwise) {
        return values.getOrDefault(key, otherwise);
    }

    int intValue(String key, int otherwise) {
        String v = values.get(key);
        return v == null ? otherwise : Integer.parseInt(v);
    }

    long longValue(String key, long otherwise) {
        String v = values.get(key);
        return v == null ? otherwise : Long.parseLong(v);
    }

    double doubleValue(String key, double otherwise) {
        String v = values.get(key);
        return v == null ? otherwise : Double.parseDouble(v);
    }

    /** The unique prefix of every name this case creates (segments, files, directories). */
    String base() {
        return get("base");
    }

    /** Message length in bytes. */
    int size() {
        return intValue("size", 32);
    }

    /** Ring capacity of the shared-memory transports. */
    int ring() {
        return intValue("ring", Suite.DEFAULT_RING);
    }

    /** spin, block or yield. */
    String mode() {
        return get("mode", "spin");
    }

    boolean blocking() {
        return mode().equals("block");
    }

    boolean yielding() {
        return mode().equals("yield");
    }

    int cores() {
        return intValue("cores", Runtime.getRuntime().availableProcessors());
    }
}
