/* A process whose first thread ends while another runs on, for the OS backend contract tests.
 *
 * Prints "PID <pid>", waits for a line on stdin, then its first thread (the one that ran main)
 * ends with pthread_exit. The second thread waits until it has ended, prints GONE, and keeps the
 * process alive until stdin ends; then it exits 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_t first;

#ifdef __linux__
/* The state letter of /proc/self/stat (the first thread's, for the whole process), or 0. */
static char first_thread_state(void) {
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (f == NULL) {
        return 0;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' ? p[2] : 0;
}
#endif

static void *second(void *arg) {
    (void) arg;
    pthread_join(first, NULL);
#ifdef __linux__
    /* pthread_join returns once the first thread has released its stack; the kernel finishes it
     * (state Z until the whole process ends) a moment later. Wait for that, bounded, so that the
     * process is in the state under test when GONE is printed. */
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 10000 && first_thread_state() != 'Z'; i++) {
        nanosleep(&ms, NULL);
    }
#endif
    printf("GONE\n");
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
    }
    exit(0);
}

int main(void) {
    first = pthread_self();
    printf("PID %d\n", (int) getpid());
    fflush(stdout);
    char line[64];
    if (fgets(line, sizeof line, stdin) == NULL) {
        return 1;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, second, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    pthread_exit(NULL);
}
