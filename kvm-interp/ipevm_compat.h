/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Fixed-width types for the ipevm interpreter.
 *
 * kvm-interp/ is compiled twice: into the kernel LSM and into user space
 * (ipec, tests, fuzzers). This header is the only place that knows which.
 */
#ifndef IPEVM_COMPAT_H
#define IPEVM_COMPAT_H

#ifdef __KERNEL__
#include <linux/stddef.h>
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
#endif

#endif /* IPEVM_COMPAT_H */
