/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ioctl interface of the spr_bench driver (tests/spr_bench.c), which
 * times shrinkable_page_range against the kernel primitives it is built on.
 * Shared by the driver and tests/user/spr_bench.c.
 *
 * A process opens /dev/spr_bench and mmaps it twice, read-only and 4 MiB
 * each: at offset 0 the range under test, and at SPR_BENCH_RAW_OFFSET a
 * plain VM_MIXEDMAP mapping that the floor cases insert into and zap
 * directly, with no module code involved.
 */
#ifndef _UAPI_SPR_BENCH_H
#define _UAPI_SPR_BENCH_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SPR_BENCH_DEVICE	"/dev/spr_bench"
#define SPR_BENCH_BYTES		(4 << 20)
#define SPR_BENCH_RAW_OFFSET	0x100000000ULL
#define SPR_BENCH_MAX_ROUNDS	64

enum spr_bench_op {
	/* spr_use_range() of Free pages: allocate and map. */
	SPR_BENCH_COLD_USE,
	/* The same, one spr_use_range() call per page. */
	SPR_BENCH_COLD_USE_PAGEWISE,
	/* spr_use_range() of Available pages: off the lru. */
	SPR_BENCH_WARM_USE,
	/* spr_stop_using_range() of In-use pages: onto the lru. */
	SPR_BENCH_STOP,
	/* spr_shrinker_scan() of Available pages: zap and free. */
	SPR_BENCH_RECLAIM,
	/* The same, one spr_shrinker_scan() call per page. */
	SPR_BENCH_RECLAIM_PAGEWISE,
	/* alloc_page(__GFP_ZERO) + vm_insert_page() for each page. */
	SPR_BENCH_FLOOR_INSERT,
	/* alloc_page(__GFP_ZERO) for each page + one vm_insert_pages(). */
	SPR_BENCH_FLOOR_INSERT_BATCH,
	/* list_lru_del() of each page's entry. */
	SPR_BENCH_FLOOR_LRU_DEL,
	/* list_lru_add() of each page's entry. */
	SPR_BENCH_FLOOR_LRU_ADD,
	/* zap_page_range_single() + __free_page() for each page. */
	SPR_BENCH_FLOOR_ZAP,
	/* One zap_page_range_single() of the span + __free_page() each. */
	SPR_BENCH_FLOOR_ZAP_BATCH,
	SPR_BENCH_NR_OPS,
};

/*
 * One case: @rounds timed rounds of @op on pages [0, @pages), after one
 * untimed warm-up round. Out: the wall time of each round.
 */
struct spr_bench_case {
	__u32 op;
	__u32 pages;
	__u32 rounds;
	__u32 pad;
	__u64 ns[SPR_BENCH_MAX_ROUNDS];
};

/*
 * The metadata that the module allocates for the range with @resident of
 * its pages resident, as ksize() reports it. Out: the rest.
 */
struct spr_bench_mem {
	__u64 resident;
	__u64 nr_slots;
	__u64 slot_bytes;	/* the slot array */
	__u64 page_bytes;	/* the metadata of the resident pages */
	__u64 range_bytes;	/* struct shrinkable_page_range, embedded */
};

#define SPR_BENCH_IOC_MAGIC	0xb8

/* 0, or -EINVAL (bad op, pages or rounds), -ENOMEM, -ESRCH, -EBUSY. */
#define SPR_BENCH_IOC_RUN	_IOWR(SPR_BENCH_IOC_MAGIC, 1, struct spr_bench_case)
/* 0, or -EINVAL (resident past the range), -ENOMEM, -ESRCH. */
#define SPR_BENCH_IOC_MEM	_IOWR(SPR_BENCH_IOC_MAGIC, 2, struct spr_bench_mem)

#endif /* _UAPI_SPR_BENCH_H */
