// Linux calls that Swift's Glibc module does not import. Each wrapper is a
// direct pass-through; errors come back through errno as usual.
#ifndef CSYSTEM_H
#define CSYSTEM_H

#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/types.h>

/// signalfd(2) with SFD_CLOEXEC | SFD_NONBLOCK.
int csystem_signalfd(const sigset_t *mask);

/// Reads the pending signals from a signalfd, up to `capacity` of them in one read, into
/// `signals`; returns how many, 0 when none is pending, or -1 with errno set.
int csystem_signalfd_read(int fd, int *signals, int capacity);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to
/// us, so we can reap and kill what tasks leave behind.
int csystem_set_child_subreaper(void);

/// prctl(PR_SET_PDEATHSIG, signal): `signal` is sent to us when our parent dies, so a
/// task's reaper ends its task with a one-shot multirun that was killed.
int csystem_set_parent_death_signal(int signal);

/// fallocate(FALLOC_FL_KEEP_SIZE): reserves disk blocks past the end of a file without
/// changing its size, so a later append there cannot fail for want of space.
int csystem_reserve(int fd, off_t offset, off_t length);

/// POSIX_SPAWN_SETSID: the flag that puts a spawned child in a new session.
short csystem_spawn_setsid_flag(void);

/// posix_spawn_file_actions_addclosefrom_np: close every descriptor >= `from` in the child.
int csystem_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

/// pidfd_open(2): a descriptor that becomes readable when process `pid` exits, so a
/// restarted scheduler can wait for a task it did not start.
int csystem_pidfd_open(pid_t pid);

#endif
