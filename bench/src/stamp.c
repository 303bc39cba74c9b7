/*
 * stamp - a task that records when it ran, for dispatch-gap measurements.
 *
 *   stamp LOG SECONDS [ignored...]
 *
 * Appends "start <ns>" first thing and "end <ns>" right before exiting, as single
 * O_APPEND writes (CLOCK_REALTIME), sleeping SECONDS in between. Extra arguments (a
 * runner's "-c CONFIG") are ignored. LOG "-" records nothing.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void note(const char *log, const char *what) {
    if (strcmp(log, "-") == 0) return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char line[64];
    int n = snprintf(line, sizeof line, "%s %lld\n", what, (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        if (write(fd, line, (size_t)n) < 0) _exit(1);
        close(fd);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    note(argv[1], "start");
    double seconds = atof(argv[2]);
    if (seconds > 0) {
        struct timespec pause = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
        nanosleep(&pause, NULL);
    }
    note(argv[1], "end");
    return 0;
}
