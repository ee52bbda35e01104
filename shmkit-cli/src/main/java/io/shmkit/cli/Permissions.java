package io.shmkit.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converts {@code --mode} values: octal permission bits as {@code chmod} takes them,
 * {@code 600}, {@code 0640}.
 */
final class Permissions implements ITypeConverter<Integer> {

    @Override
    public Integer convert(String value) {
        if (!value.matches("0?[0-7]{1,3}")) {
            throw new TypeConversionException("invalid mode \"" + value
                    + "\": write octal permission bits as chmod takes them, e.g. 600 or 640");
        }
        return Integer.parseInt(value, 8);
    }
}
