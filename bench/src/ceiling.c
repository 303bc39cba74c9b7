/*
 * ceiling - the fastest a scheduler could possibly run T tasks with S slots here:
 * posix_spawn the command, block in waitpid, spawn the next. Nothing else.
 *
 *   ceiling SLOTS TASKS COMMAND [ARGS...]
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ceiling SLOTS TASKS COMMAND [ARGS...]\n");
        return 2;
    }
    long slots = atol(argv[1]), tasks = atol(argv[2]), started = 0, running = 0;
    int failed = 0;
    while (started < tasks || running > 0) {
        while (running < slots && started < tasks) {
            pid_t pid;
            if (posix_spawnp(&pid, argv[3], NULL, NULL, argv + 3, environ) != 0) return 1;
            started++;
            running++;
        }
        int status;
        if (wait(&status) < 0) return 1;
        running--;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    }
    return failed;
}
