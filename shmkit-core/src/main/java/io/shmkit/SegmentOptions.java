package io.shmkit;

import java.nio.file.attribute.PosixFilePermission;
import java.util.Objects;
import java.util.Set;

/**
 * How to create or open a segment: permissions, lifetime, access, and whether a segment owned by
 * another user may be opened. Immutable; each method returns a changed copy.
 *
 * <pre>{@code
 * SegmentOptions.defaults().permissions(0640).lifetime(Lifetime.PERSISTENT)
 * }</pre>
 *
 * <p>The defaults are the secure ones: permissions {@code 0600} (owner only), lifetime
 * {@link Lifetime#UNTIL_LAST_CLOSE}, access {@link Access#READ_WRITE}, and segments owned by
 * another user refused.
 */
public final class SegmentOptions {

    private static final SegmentOptions DEFAULTS =
            new SegmentOptions(0600, Lifetime.UNTIL_LAST_CLOSE, Access.READ_WRITE, false);

    private final int permissions;
    private final Lifetime lifetime;
    private final Access access;
    private final boolean allowForeignOwner;

    private SegmentOptions(int permissions, Lifetime lifetime, Access access, boolean allowForeignOwner) {
        this.permissions = permissions;
        this.lifetime = lifetime;
        this.access = access;
        this.allowForeignOwner = allowForeignOwner;
    }

    /**
     * The secure defaults: 0600, until last close, read-write, own segments only.
     *
     * @return the default options
     */
    public static SegmentOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Permission bits for a segment or file this call creates (like Win32's SECURITY_ATTRIBUTES).
     * Applied exactly: the process umask does not reduce them.
     *
     * @param mode the bits, e.g. {@code 0640}; between 0 and 0777
     * @return changed options
     * @throws IllegalArgumentException for bits outside 0777
     */
    public SegmentOptions permissions(int mode) {
        if (mode < 0 || mode > 0777) {
            throw new IllegalArgumentException("permissions must be between 0 and 0777 (octal), not 0"
                    + Integer.toOctalString(mode));
        }
        return new SegmentOptions(mode, lifetime, access, allowForeignOwner);
    }

    /**
     * Permission bits as a set, e.g. {@code PosixFilePermissions.fromString("rw-r-----")}.
     *
     * @param permissions the permissions
     * @return changed options
     */
    public SegmentOptions permissions(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (PosixFilePermission p : permissions) {
            mode |= 1 << (8 - p.ordinal());
        }
        return permissions(mode);
    }

    /**
     * The lifetime of a segment this call creates; ignored when opening.
     *
     * @param lifetime until last close (default) or persistent
     * @return changed options
     */
    public SegmentOptions lifetime(Lifetime lifetime) {
        return new SegmentOptions(permissions, Objects.requireNonNull(lifetime, "lifetime"), access, allowForeignOwner);
    }

    /**
     * How the segment is opened; views default to it.
     *
     * @param access read-only, read-write (default) or copy-on-write
     * @return changed options
     */
    public SegmentOptions access(Access access) {
        return new SegmentOptions(permissions, lifetime, Objects.requireNonNull(access, "access"), allowForeignOwner);
    }

    /**
     * Allows opening a segment (or file) owned by another user. Off by default, because a segment
     * another user controls can change under you or be made to look like yours.
     *
     * @return changed options
     */
    public SegmentOptions allowForeignOwner() {
        return new SegmentOptions(permissions, lifetime, access, true);
    }

    /** @return the permission bits for creation, e.g. 0600 */
    public int permissions() {
        return permissions;
    }

    /** @return the lifetime for creation */
    public Lifetime lifetime() {
        return lifetime;
    }

    /** @return the access mode */
    public Access access() {
        return access;
    }

    /** @return whether segments owned by another user may be opened */
    public boolean foreignOwnerAllowed() {
        return allowForeignOwner;
    }

    @Override
    public String toString() {
        return "SegmentOptions[permissions=0" + Integer.toOctalString(permissions) + ", lifetime=" + lifetime
                + ", access=" + access + ", allowForeignOwner=" + allowForeignOwner + "]";
    }
}
