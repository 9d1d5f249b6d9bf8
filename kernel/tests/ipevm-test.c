// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipevm-test: the real system calls the end-to-end tests make inside UML.
 *
 * Built with gcc -static by kernel/run-tests and run by the test init.
 * Each command prints one line, "ok ..." or "errno=NAME" (the errno of the
 * call under test), and exits 0 for ok, 1 for an errno, 2 for misuse. The
 * host compares these lines with what each case expects; nothing here
 * decides whether a test passed.
 *
 *   true                     exit 0 (a program to execute)
 *   exec PATH [ARG...]       fork and execve PATH: "ok exit=N" or errno
 *   execloop PATH N          execute PATH N times: "ok runs=N failures=F"
 *   mmap FILE [rw]           map FILE PROT_READ|PROT_EXEC (|PROT_WRITE,
 *                            MAP_PRIVATE with rw)
 *   anon-x                   mmap anonymous PROT_READ|PROT_EXEC
 *   mprotect [rw]            mmap anonymous RW, then mprotect to R+X (RWX)
 *   load FILE [CHUNK]        write FILE to new_policy in CHUNK-byte writes,
 *                            then commit with a zero-length write
 *   load-partial FILE N      write the first N bytes of FILE, then commit
 *   verity FILE [SIG]        FS_IOC_ENABLE_VERITY (sha256, 4096), signed
 *                            with the PKCS#7 in SIG if given
 *   measure FILE             FS_IOC_MEASURE_VERITY: "ok sha256:HEX"
 *   addkey DER               add an X.509 certificate to .fs-verity
 *   initmod                  init_module() of a junk buffer (no file)
 *   finitmod FILE            finit_module() of FILE
 *   put FILE STRING          write STRING to FILE in one write(2), as
 *                            "echo STRING > FILE" but reporting the errno
 *   dmcreate NAME TABLE [KEYDESC SIG]
 *                            create a read-only device-mapper device with
 *                            the one-target TABLE ("start len type args");
 *                            with KEYDESC, first add SIG as a "user" key of
 *                            that description (a dm-verity root hash
 *                            signature): "ok dm-MINOR"
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/fsverity.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NEW_POLICY "/sys/kernel/security/ipevm/new_policy"

static const char *errname(int e)
{
	static char buf[32];

	switch (e) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EBADMSG: return "EBADMSG";
	case ENOKEY: return "ENOKEY";
	case EKEYREJECTED: return "EKEYREJECTED";
	case ESTALE: return "ESTALE";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case E2BIG: return "E2BIG";
	case EFBIG: return "EFBIG";
	case ENOENT: return "ENOENT";
	case ENOEXEC: return "ENOEXEC";
	case ENODATA: return "ENODATA";
	case ENOMEM: return "ENOMEM";
	case EEXIST: return "EEXIST";
	case EMSGSIZE: return "EMSGSIZE";
	case ENOTTY: return "ENOTTY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EFAULT: return "EFAULT";
	}
	snprintf(buf, sizeof(buf), "%d", e);
	return buf;
}

static int fail(int e)
{
	printf("errno=%s\n", errname(e));
	return 1;
}

static int misuse(void)
{
	fprintf(stderr, "ipevm-test: bad usage (see the source)\n");
	return 2;
}

/* Read a whole file into memory; exits on error (a broken test setup). */
static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		perror(path);
		exit(2);
	}
	buf = malloc(st.st_size + 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size) {
		perror(path);
		exit(2);
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/*
 * Execute path; returns its exit status (>= 0), or -errno when execve
 * failed (reported by the child through a close-on-exec pipe).
 */
static int run(char **argv)
{
	int fds[2], status, e = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(fds[0]);
		execv(argv[0], argv);
		e = errno;
		if (write(fds[1], &e, sizeof(e)) != sizeof(e))
			_exit(127);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (e)
		return -e;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int cmd_exec(int argc, char **argv)
{
	static char *targv[16];
	int i, rc;

	if (argc < 1 || argc > 15)
		return misuse();
	for (i = 0; i < argc; i++)
		targv[i] = argv[i];
	targv[argc] = NULL;
	rc = run(targv);
	if (rc < 0)
		return fail(-rc);
	printf("ok exit=%d\n", rc);
	return 0;
}

static int cmd_execloop(int argc, char **argv)
{
	int i, n, failures = 0, first = 0, rc;
	char *targv[3];

	if (argc != 2)
		return misuse();
	targv[0] = argv[0];
	targv[1] = "true";
	targv[2] = NULL;
	n = atoi(argv[1]);
	for (i = 0; i < n; i++) {
		rc = run(targv);
		if (rc != 0) {
			failures++;
			if (!first)
				first = rc;
		}
	}
	printf("%s runs=%d failures=%d first=%d\n", failures ? "failed" : "ok",
	       n, failures, first);
	return failures ? 1 : 0;
}

static int cmd_mmap(int argc, char **argv)
{
	int prot = PROT_READ | PROT_EXEC;
	void *p;
	int fd;

	if (argc < 1 || argc > 2)
		return misuse();
	if (argc == 2 && !strcmp(argv[1], "rw"))
		prot |= PROT_WRITE;
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return fail(errno);
	p = mmap(NULL, 4096, prot, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	printf("ok\n");
	return 0;
}

static int cmd_anon_x(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return fail(errno);
	printf("ok\n");
	return 0;
}

static int cmd_mprotect(int argc, char **argv)
{
	int prot = PROT_READ | PROT_EXEC;
	void *p;

	if (argc == 1 && !strcmp(argv[0], "rw"))
		prot |= PROT_WRITE;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	if (mprotect(p, 4096, prot))
		return fail(errno);
	printf("ok\n");
	return 0;
}

/* Write len bytes of buf in chunk-sized writes, then commit. */
static int load(const char *buf, size_t len, size_t chunk)
{
	size_t off = 0, n;
	ssize_t w;
	int fd = open(NEW_POLICY, O_WRONLY);

	if (fd < 0)
		return fail(errno);
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		w = write(fd, buf + off, n);
		if (w < 0)
			return fail(errno);
		if ((size_t)w != n) {
			printf("short write %zd of %zu\n", w, n);
			return 1;
		}
		off += n;
	}
	if (write(fd, buf, 0) < 0)
		return fail(errno);
	if (close(fd))
		return fail(errno);
	printf("ok\n");
	return 0;
}

static int cmd_load(int argc, char **argv)
{
	size_t len, chunk;
	char *buf;

	if (argc < 1 || argc > 2)
		return misuse();
	buf = slurp(argv[0], &len);
	chunk = argc == 2 ? strtoul(argv[1], NULL, 0) : len;
	return load(buf, len, chunk ? chunk : 1);
}

static int cmd_load_partial(int argc, char **argv)
{
	size_t len, n;
	char *buf;

	if (argc != 2)
		return misuse();
	buf = slurp(argv[0], &len);
	n = strtoul(argv[1], NULL, 0);
	return load(buf, n < len ? n : len, 4096);
}

static int cmd_verity(int argc, char **argv)
{
	struct fsverity_enable_arg arg = {
		.version = 1,
		.hash_algorithm = FS_VERITY_HASH_ALG_SHA256,
		.block_size = 4096,
	};
	size_t siglen;
	char *sig;
	int fd;

	if (argc < 1 || argc > 2)
		return misuse();
	if (argc == 2) {
		sig = slurp(argv[1], &siglen);
		arg.sig_ptr = (unsigned long)sig;
		arg.sig_size = siglen;
	}
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return fail(errno);
	if (ioctl(fd, FS_IOC_ENABLE_VERITY, &arg))
		return fail(errno);
	printf("ok\n");
	return 0;
}

static int cmd_measure(int argc, char **argv)
{
	struct {
		struct fsverity_digest d;
		unsigned char buf[64];
	} m = { .d.digest_size = 64 };
	int fd, i;

	if (argc != 1)
		return misuse();
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return fail(errno);
	if (ioctl(fd, FS_IOC_MEASURE_VERITY, &m))
		return fail(errno);
	printf("ok sha256:");
	for (i = 0; i < m.d.digest_size; i++)
		printf("%02x", m.d.digest[i]);
	printf("\n");
	return 0;
}

/* The .fs-verity keyring is not linked anywhere: find it in /proc/keys. */
static long fsverity_keyring(void)
{
	char line[256];
	long id = -1;
	FILE *f = fopen("/proc/keys", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "keyring") && strstr(line, ".fs-verity")) {
			id = strtol(line, NULL, 16);
			break;
		}
	}
	fclose(f);
	return id;
}

static int cmd_addkey(int argc, char **argv)
{
	long ring, key;
	size_t len;
	char *der;

	if (argc != 1)
		return misuse();
	der = slurp(argv[0], &len);
	ring = fsverity_keyring();
	if (ring < 0) {
		printf("no .fs-verity keyring in /proc/keys\n");
		return 1;
	}
	key = syscall(SYS_add_key, "asymmetric", "ipevm-test", der, len, ring);
	if (key < 0)
		return fail(errno);
	printf("ok\n");
	return 0;
}

static int cmd_initmod(void)
{
	static char junk[64] = "not an ELF module";

	if (syscall(SYS_init_module, junk, sizeof(junk), "") == 0) {
		printf("ok\n");
		return 0;
	}
	return fail(errno);
}

static int cmd_finitmod(int argc, char **argv)
{
	int fd;

	if (argc != 1)
		return misuse();
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return fail(errno);
	if (syscall(SYS_finit_module, fd, "", 0) == 0) {
		printf("ok\n");
		return 0;
	}
	return fail(errno);
}

static int cmd_put(int argc, char **argv)
{
	size_t len;
	int fd;

	if (argc != 2)
		return misuse();
	fd = open(argv[0], O_WRONLY);
	if (fd < 0)
		return fail(errno);
	len = strlen(argv[1]);
	if (write(fd, argv[1], len) != (ssize_t)len)
		return fail(errno);
	if (close(fd))
		return fail(errno);
	printf("ok\n");
	return 0;
}

static int dm_ioctl(int fd, unsigned long cmd, struct dm_ioctl *io)
{
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	return ioctl(fd, cmd, io);
}

static int cmd_dmcreate(int argc, char **argv)
{
	char buf[4096], *params, *type, *rest;
	struct dm_target_spec *spec;
	struct dm_ioctl *io = (struct dm_ioctl *)buf;
	unsigned long long start, len;
	size_t siglen;
	char *sig;
	int fd, n;

	if (argc != 2 && argc != 4)
		return misuse();
	if (argc == 4) {
		sig = slurp(argv[3], &siglen);
		if (syscall(SYS_add_key, "user", argv[2], sig, siglen,
			    KEY_SPEC_USER_KEYRING) < 0)
			return fail(errno);
	}
	/* "start len type args..." */
	start = strtoull(argv[1], &rest, 10);
	len = strtoull(rest, &rest, 10);
	while (*rest == ' ')
		rest++;
	type = rest;
	params = strchr(rest, ' ');
	if (!params)
		return misuse();
	*params++ = '\0';

	fd = open("/dev/mapper/control", O_RDWR);
	if (fd < 0)
		return fail(errno);
	memset(buf, 0, sizeof(buf));
	io->data_size = sizeof(*io);
	io->data_start = sizeof(*io);
	snprintf(io->name, sizeof(io->name), "%s", argv[0]);
	if (dm_ioctl(fd, DM_DEV_CREATE, io))
		return fail(errno);

	memset(buf, 0, sizeof(buf));
	spec = (struct dm_target_spec *)(buf + sizeof(*io));
	spec->sector_start = start;
	spec->length = len;
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", type);
	n = snprintf((char *)(spec + 1),
		     sizeof(buf) - sizeof(*io) - sizeof(*spec), "%s", params);
	io->data_start = sizeof(*io);
	io->data_size = sizeof(*io) + sizeof(*spec) + n + 1;
	io->target_count = 1;
	io->flags = DM_READONLY_FLAG;
	snprintf(io->name, sizeof(io->name), "%s", argv[0]);
	if (dm_ioctl(fd, DM_TABLE_LOAD, io))
		return fail(errno);

	memset(buf, 0, sizeof(buf));
	io->data_size = sizeof(*io);
	io->data_start = sizeof(*io);
	snprintf(io->name, sizeof(io->name), "%s", argv[0]);
	if (dm_ioctl(fd, DM_DEV_SUSPEND, io))	/* without SUSPEND: resume */
		return fail(errno);
	printf("ok dm-%u\n", (unsigned int)(io->dev & 0xff) |
	       (unsigned int)((io->dev >> 12) & 0xfff00));
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return misuse();
	cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "true"))
		return 0;
	if (!strcmp(cmd, "exec"))
		return cmd_exec(argc, argv);
	if (!strcmp(cmd, "execloop"))
		return cmd_execloop(argc, argv);
	if (!strcmp(cmd, "mmap"))
		return cmd_mmap(argc, argv);
	if (!strcmp(cmd, "anon-x"))
		return cmd_anon_x();
	if (!strcmp(cmd, "mprotect"))
		return cmd_mprotect(argc, argv);
	if (!strcmp(cmd, "load"))
		return cmd_load(argc, argv);
	if (!strcmp(cmd, "load-partial"))
		return cmd_load_partial(argc, argv);
	if (!strcmp(cmd, "verity"))
		return cmd_verity(argc, argv);
	if (!strcmp(cmd, "measure"))
		return cmd_measure(argc, argv);
	if (!strcmp(cmd, "addkey"))
		return cmd_addkey(argc, argv);
	if (!strcmp(cmd, "initmod"))
		return cmd_initmod();
	if (!strcmp(cmd, "finitmod"))
		return cmd_finitmod(argc, argv);
	if (!strcmp(cmd, "put"))
		return cmd_put(argc, argv);
	if (!strcmp(cmd, "dmcreate"))
		return cmd_dmcreate(argc, argv);
	return misuse();
}
