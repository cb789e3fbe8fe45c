// SPDX-License-Identifier: GPL-2.0
/*
 * spr_bench: drive /dev/spr_bench (tests/spr_bench.c) through every case,
 * and print the median time per page of each, and the range's metadata.
 *
 *   spr_bench [-r ROUNDS] [-q]
 *
 * -r  timed rounds per case (default 15; the driver adds a warm-up round)
 * -q  the short form for CI: 3 rounds
 *
 * Each case prints "SPR-BENCH <case> <pages> <median> <min> <max> <rounds>",
 * nanoseconds per page, and each residency "SPR-BENCH-MEM <percent>
 * <resident> <slots> <slot bytes> <page bytes> <range bytes>".
 * scripts/bench_report.py turns these into the table and the JSON file,
 * ratios included. The checks are that every case ran and that the
 * metadata is within 8 bytes per slot and 32 bytes per resident page; no
 * check is about time.
 */
#define _GNU_SOURCE
#include "spr_user.h"
#include "../spr_bench_uapi.h"

#define SPR_BENCH_SLOT_MAX	8
#define SPR_BENCH_PAGE_MAX	32

static const char *const spr_bench_names[SPR_BENCH_NR_OPS] = {
	[SPR_BENCH_COLD_USE] = "cold_use",
	[SPR_BENCH_COLD_USE_PAGEWISE] = "cold_use_pagewise",
	[SPR_BENCH_WARM_USE] = "warm_use",
	[SPR_BENCH_STOP] = "stop",
	[SPR_BENCH_RECLAIM] = "reclaim",
	[SPR_BENCH_RECLAIM_PAGEWISE] = "reclaim_pagewise",
	[SPR_BENCH_FLOOR_INSERT] = "floor_insert",
	[SPR_BENCH_FLOOR_INSERT_BATCH] = "floor_insert_batch",
	[SPR_BENCH_FLOOR_LRU_DEL] = "floor_lru_del",
	[SPR_BENCH_FLOOR_LRU_ADD] = "floor_lru_add",
	[SPR_BENCH_FLOOR_ZAP] = "floor_zap",
	[SPR_BENCH_FLOOR_ZAP_BATCH] = "floor_zap_batch",
};

static const __u32 spr_bench_spans[] = { 1, 16, 256, 1024 };

static int spr_bench_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void spr_bench_case(int fd, __u32 op, __u32 pages, __u32 rounds)
{
	struct spr_bench_case bc = { .op = op, .pages = pages,
				     .rounds = rounds };
	char name[64];
	double median;
	int ret;

	snprintf(name, sizeof(name), "bench_%s_%u", spr_bench_names[op], pages);
	ret = spr_ioctl(fd, SPR_BENCH_IOC_RUN, &bc);
	if (!spr_check_one(!ret, name, "%u rounds: %s", rounds,
			   spr_errname(-ret)))
		return;
	qsort(bc.ns, rounds, sizeof(bc.ns[0]), spr_bench_cmp);
	median = rounds % 2 ? bc.ns[rounds / 2] :
		 (bc.ns[rounds / 2 - 1] + bc.ns[rounds / 2]) / 2.0;
	spr_print("SPR-BENCH %s %u %.1f %.1f %.1f %u", spr_bench_names[op],
		  pages, median / pages, (double)bc.ns[0] / pages,
		  (double)bc.ns[rounds - 1] / pages, rounds);
}

static void spr_bench_mem(int fd, unsigned int percent)
{
	struct spr_bench_mem bm = { .resident = SPR_BENCH_BYTES /
						SPR_PAGE_SIZE * percent / 100 };
	int ret;

	ret = spr_ioctl(fd, SPR_BENCH_IOC_MEM, &bm);
	if (!spr_check_one(!ret, "bench_mem", "%u%% resident: %s", percent,
			   spr_errname(-ret)))
		return;
	spr_print("SPR-BENCH-MEM %u %llu %llu %llu %llu %llu", percent,
		  (unsigned long long)bm.resident,
		  (unsigned long long)bm.nr_slots,
		  (unsigned long long)bm.slot_bytes,
		  (unsigned long long)bm.page_bytes,
		  (unsigned long long)bm.range_bytes);
	spr_check_one(bm.slot_bytes <= SPR_BENCH_SLOT_MAX * bm.nr_slots,
		      "bench_mem_per_slot", "%u%% resident: %llu bytes for %llu slots",
		      percent, (unsigned long long)bm.slot_bytes,
		      (unsigned long long)bm.nr_slots);
	spr_check_one(bm.page_bytes <= SPR_BENCH_PAGE_MAX * bm.resident,
		      "bench_mem_per_page", "%u%% resident: %llu bytes for %llu pages",
		      percent, (unsigned long long)bm.page_bytes,
		      (unsigned long long)bm.resident);
}

static void spr_bench_usage(void)
{
	spr_print("usage: spr_bench [-r ROUNDS (1..%d)] [-q]",
		  SPR_BENCH_MAX_ROUNDS);
	exit(2);
}

int main(int argc, char **argv)
{
	static const unsigned int residency[] = { 0, 10, 100 };
	unsigned int rounds = 15, i, op;
	void *range, *raw;
	int fd, opt;

	while ((opt = getopt(argc, argv, "r:q")) != -1) {
		switch (opt) {
		case 'r':
			rounds = strtoul(optarg, NULL, 0);
			if (!rounds || rounds > SPR_BENCH_MAX_ROUNDS)
				spr_bench_usage();
			break;
		case 'q':
			rounds = 3;
			break;
		default:
			spr_bench_usage();
		}
	}

	fd = open(SPR_BENCH_DEVICE, O_RDWR | O_CLOEXEC);
	if (!spr_check_one(fd >= 0, "bench_open", "%s: %s", SPR_BENCH_DEVICE,
			   spr_errname(errno)))
		return 1;
	range = mmap(NULL, SPR_BENCH_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	raw = mmap(NULL, SPR_BENCH_BYTES, PROT_READ, MAP_SHARED, fd,
		   SPR_BENCH_RAW_OFFSET);
	if (!spr_check_one(range != MAP_FAILED && raw != MAP_FAILED,
			   "bench_mmap", "%s", spr_errname(errno)))
		return 1;

	for (op = 0; op < SPR_BENCH_NR_OPS; op++)
		for (i = 0; i < sizeof(spr_bench_spans) / sizeof(*spr_bench_spans); i++)
			spr_bench_case(fd, op, spr_bench_spans[i], rounds);
	for (i = 0; i < sizeof(residency) / sizeof(*residency); i++)
		spr_bench_mem(fd, residency[i]);

	munmap(raw, SPR_BENCH_BYTES);
	munmap(range, SPR_BENCH_BYTES);
	close(fd);
	return spr_nr_failed ? 1 : 0;
}
