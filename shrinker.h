/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The memory shrinker shared by shrinkable page ranges.
 *
 * One spr_shrinker owns one list_lru. Every Available page of every range
 * that uses the shrinker is queued on that lru; the shrinker frees them under
 * memory pressure.
 */
#ifndef _SPR_SHRINKER_H
#define _SPR_SHRINKER_H

#include <linux/atomic.h>
#include <linux/list_lru.h>
#include <linux/mutex.h>
#include <linux/percpu_counter.h>

struct dentry;
struct shrinker;

/**
 * struct spr_shrinker - a registered shrinker and the lru it reclaims from
 * @lru: Available pages of every range that uses this shrinker, and pages
 *	taken back In use that the shrinker has not dropped from it yet
 * @nr_available: the number of Available pages on @lru
 * @shrinker: the registration with the memory-management core
 * @reclaimed: pages freed by this shrinker since it was registered
 * @alloc_failed: page or metadata allocations that failed in spr_use_range()
 * @ranges_lock: protects @ranges
 * @ranges: every range initialised on this shrinker, for debugfs
 * @debugfs: this shrinker's directory under shrinkable_page_range/
 *
 * Embeddable, and may be static. It is valid between a successful
 * spr_shrinker_register() and spr_shrinker_unregister().
 */
struct spr_shrinker {
	struct list_lru lru;
	struct percpu_counter nr_available;
	struct shrinker *shrinker;
	atomic_long_t reclaimed;
	atomic_long_t alloc_failed;
	struct mutex ranges_lock;	/* protects @ranges */
	struct list_head ranges;
	struct dentry *debugfs;
};

int spr_shrinker_register(struct spr_shrinker *s, const char *name);
void spr_shrinker_unregister(struct spr_shrinker *s);
unsigned long spr_shrinker_count(struct spr_shrinker *s);
unsigned long spr_shrinker_scan(struct spr_shrinker *s,
				unsigned long nr_to_scan);

#endif /* _SPR_SHRINKER_H */
