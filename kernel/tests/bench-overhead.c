// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-overhead: the timed loops of kernel/bench-overhead, run inside UML.
 *
 * Built with gcc -static. Each command times REPS repetitions of a loop of
 * N operations with clock_gettime(CLOCK_MONOTONIC) and prints one line per
 * repetition; the host computes medians and spreads. Nothing here judges a
 * result.
 *
 *   exec PATH N REPS   fork + execve(PATH) + waitpid, N times:
 *                      "exec REP NS_PER_OP"
 *   mmap PATH N REPS   mmap(PATH, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE) +
 *                      munmap, N times: "mmap REP NS_PER_OP"
 *
 * A failed operation stops the command with "error ..." and exit 1: a
 * benchmark of operations the policy denies would measure the wrong thing.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int exec_once(char *path)
{
	char *argv[] = { path, NULL };
	char *envp[] = { NULL };
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execve(path, argv, envp);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return -EACCES;	/* the child could not execute path */
	return 0;
}

static int mmap_once(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, 4096);
	return 0;
}

int main(int argc, char **argv)
{
	long n, reps, i, r;
	long long t0, t1;
	int fd = -1, rc, exec;

	if (argc != 5) {
		fprintf(stderr, "usage: %s exec|mmap PATH N REPS\n", argv[0]);
		return 2;
	}
	exec = !strcmp(argv[1], "exec");
	if (!exec && strcmp(argv[1], "mmap")) {
		fprintf(stderr, "unknown command %s\n", argv[1]);
		return 2;
	}
	n = atol(argv[3]);
	reps = atol(argv[4]);
	if (n <= 0 || reps <= 0)
		return 2;
	if (!exec) {
		fd = open(argv[2], O_RDONLY);
		if (fd < 0) {
			printf("error open %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
	}
	for (r = 0; r < reps; r++) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			rc = exec ? exec_once(argv[2]) : mmap_once(fd);
			if (rc) {
				printf("error %s %s: %s\n", argv[1], argv[2],
				       strerror(-rc));
				return 1;
			}
		}
		t1 = now_ns();
		printf("%s %ld %.1f\n", argv[1], r, (double)(t1 - t0) / n);
		fflush(stdout);
	}
	return 0;
}
