/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ioctl interface of the spr_test driver (tests/spr_test_driver.c), a
 * misc device that uses shrinkable_page_range the way binder does. Shared by
 * the driver and the user-space programs under tests/user/.
 *
 * Every process opens /dev/spr_test, mmaps it read-only (up to 4 MiB), and
 * drives its range with these ioctls. Page indices and byte offsets are
 * relative to the start of the mapping.
 */
#ifndef _UAPI_SPR_TEST_H
#define _UAPI_SPR_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SPR_TEST_DEVICE		"/dev/spr_test"
#define SPR_TEST_MAX_BYTES	(4 << 20)

/*
 * Pages [start, end): start == end does nothing; start > end, or an end
 * past the mapped pages, is -EINVAL.
 */
struct spr_test_span {
	__u64 start;
	__u64 end;
};

/* Bytes [offset, offset + size) of the range, and a user buffer. */
struct spr_test_io {
	__u64 offset;
	__u64 size;
	__u64 buf;
};

/* The states of pages [start, start + count), one byte each, into buf. */
struct spr_test_states {
	__u64 start;
	__u64 count;
	__u64 buf;
};

/* Values of the bytes of spr_test_states.buf. */
#define SPR_TEST_FREE		0
#define SPR_TEST_AVAILABLE	1
#define SPR_TEST_IN_USE		2

struct spr_test_counters {
	__u64 nr_pages;		/* pages in this range, 0 before mmap */
	__u64 free;		/* this range's pages in each state */
	__u64 available;
	__u64 in_use;
	__u64 shrinker_available;	/* over all ranges of the driver */
	__u64 shrinker_reclaimed;	/* since the driver was loaded */
	__u64 shrinker_alloc_failed;
};

#define SPR_TEST_IOC_MAGIC	0xb7

/* spr_use_range(): 0, or -EINVAL, -ENOMEM, -ESRCH. */
#define SPR_TEST_IOC_USE	_IOW(SPR_TEST_IOC_MAGIC, 1, struct spr_test_span)
/* spr_stop_using_range(): 0, or -EINVAL. */
#define SPR_TEST_IOC_STOP	_IOW(SPR_TEST_IOC_MAGIC, 2, struct spr_test_span)
/* spr_copy_from_user() from buf: 0, or -EFAULT. */
#define SPR_TEST_IOC_WRITE	_IOW(SPR_TEST_IOC_MAGIC, 3, struct spr_test_io)
/* spr_read() into buf: 0, or -EFAULT, -EINVAL (size over 64 KiB). */
#define SPR_TEST_IOC_READ	_IOW(SPR_TEST_IOC_MAGIC, 4, struct spr_test_io)
/* spr_fill_zero(); buf is unused: 0, or -EFAULT. */
#define SPR_TEST_IOC_ZERO	_IOW(SPR_TEST_IOC_MAGIC, 5, struct spr_test_io)
/* spr_page_state() of each page: 0, or -EINVAL, -EFAULT. */
#define SPR_TEST_IOC_STATES	_IOW(SPR_TEST_IOC_MAGIC, 6, struct spr_test_states)
/* The counters above. */
#define SPR_TEST_IOC_COUNTERS	_IOR(SPR_TEST_IOC_MAGIC, 7, struct spr_test_counters)
/* spr_shrinker_scan() of the driver's shrinker; in: nr_to_scan, out: freed. */
#define SPR_TEST_IOC_SCAN	_IOWR(SPR_TEST_IOC_MAGIC, 8, __u64)

#endif /* _UAPI_SPR_TEST_H */
