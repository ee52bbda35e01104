# Sourced by ./shm, ./test and .ci/run: finds a JDK 25 or newer and exports JAVA_HOME.
# Order: $JAVA_HOME, then `java` on PATH, then /usr/lib/jvm/* and /opt/*jdk*.

shmkit_java_major() {
  # Prints the feature version of the java binary given, or nothing.
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

shmkit_find_jdk() {
  local candidates=() c home major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    c=$(command -v java)
    c=$(readlink -f "$c" 2>/dev/null || echo "$c")
    candidates+=("${c%/bin/java}")
  fi
  for c in /usr/lib/jvm/* /opt/*jdk* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$c" ] && candidates+=("$c")
  done
  for home in "${candidates[@]}"; do
    [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || continue
    major=$(shmkit_java_major "$home/bin/java")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      export JAVA_HOME="$home"
      export PATH="$home/bin:$PATH"
      return 0
    fi
  done
  cat >&2 <<'MSG'
shmkit needs a JDK 25 or newer (java and javac), and none was found in
JAVA_HOME, on PATH or under /usr/lib/jvm.
Install one, for example:
  Debian/Ubuntu:  sudo apt-get install temurin-25-jdk   (Adoptium apt repository)
  SDKMAN:         sdk install java 25-tem
  macOS:          brew install --cask temurin@25
then run this again, or point JAVA_HOME at it.
MSG
  return 1
}
