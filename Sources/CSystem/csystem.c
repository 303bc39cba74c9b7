#define _GNU_SOURCE
#include "csystem.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

int csystem_signalfd(const sigset_t *mask) {
    return signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

int csystem_signalfd_read(int fd, int *signals, int capacity) {
    struct signalfd_siginfo info[8];
    if (capacity > 8) capacity = 8;
    for (;;) {
        ssize_t n = read(fd, info, sizeof info[0] * (size_t)capacity);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        if (n < 0) return -1;
        int count = (int)(n / (ssize_t)sizeof info[0]);
        for (int i = 0; i < count; i++) signals[i] = (int)info[i].ssi_signo;
        return count;
    }
}

int csystem_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int csystem_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
}

int csystem_reserve(int fd, off_t offset, off_t length) {
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length);
}

short csystem_spawn_setsid_flag(void) {
    return POSIX_SPAWN_SETSID;
}

int csystem_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int csystem_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}
