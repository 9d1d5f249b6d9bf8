// SPDX-License-Identifier: GPL-2.0-only
/*
 * The program kernel/bench-overhead executes thousands of times: no libc,
 * one page of code, exit(0) at once, so an exec costs as little as it can
 * and the LSM's share of it is as large as it can be (x86_64 only, as UML
 * here).
 *
 * Built with gcc -static -nostdlib -O2.
 */

void _start(void)
{
	__asm__ volatile("mov $60, %eax\n\t"	/* __NR_exit */
			 "xor %edi, %edi\n\t"
			 "syscall");
}
