/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipevm LSM - securityfs interface
 */

#ifndef _SECURITY_IPEVM_FS_H
#define _SECURITY_IPEVM_FS_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uio.h>

#include "policy.h"

int ipevm_fs_add_policy(struct ipevm_policy *p);

/* A DER header is a tag, a length byte and at most 4 length bytes. */
#define IPEVM_DER_HEAD_MAX 6
/* The most header bytes either form of artifact needs for its length. */
#define IPEVM_ARTIFACT_HEAD_MAX IPEVM_ENVELOPE_HDR_SIZE

int ipevm_der_length(const u8 *p, size_t n, size_t max, size_t *total);
int ipevm_artifact_length(const u8 *p, size_t n, size_t max, size_t *total);

/*
 * Collects artifacts written to new_policy (one per open file). load is
 * called with each complete artifact; reject when one is refused before it
 * is complete (a bad header, a truncated artifact), for audit.
 */
struct ipevm_loader {
	struct mutex lock;	/* serialises writes to one open file */
	u8 head[IPEVM_ARTIFACT_HEAD_MAX];
	size_t head_len;
	u8 *buf;		/* the artifact, once its length is known */
	size_t size;
	size_t have;
	int (*load)(void *ctx, const u8 *artifact, size_t len);
	void (*reject)(void *ctx, int err);
	void *ctx;
};

void ipevm_loader_init(struct ipevm_loader *ld,
		       int (*load)(void *ctx, const u8 *artifact, size_t len),
		       void (*reject)(void *ctx, int err), void *ctx);
ssize_t ipevm_loader_write(struct ipevm_loader *ld, struct iov_iter *from);
int ipevm_loader_finish(struct ipevm_loader *ld);
void ipevm_loader_destroy(struct ipevm_loader *ld);

#endif /* _SECURITY_IPEVM_FS_H */
