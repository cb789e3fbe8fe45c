/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A lazily populated, shrinkable range of pages mapped read-only into one
 * vma of one process, for drivers such as binder.
 */
#ifndef _SHRINKABLE_PAGE_RANGE_H
#define _SHRINKABLE_PAGE_RANGE_H

#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "shrinker.h"

/* The largest range that one vma can back, as in binder. */
#define SPR_MAX_BYTES	SZ_4M

/**
 * enum spr_page_state - the state of one page of a range
 * @SPR_PAGE_FREE: no page is allocated, nothing is mapped
 * @SPR_PAGE_AVAILABLE: resident and mapped, on the shrinker's lru
 * @SPR_PAGE_IN_USE: resident and mapped, owned by the driver
 */
enum spr_page_state {
	SPR_PAGE_FREE,
	SPR_PAGE_AVAILABLE,
	SPR_PAGE_IN_USE,
};

/**
 * struct shrinkable_page_range - the pages behind one driver mapping
 * @shrinker: the shrinker that reclaims this range's Available pages
 * @mm: the owning process's mm, pinned with mmgrab()
 * @pid: the owning process's tgid, for debugging output
 * @insert_lock: orders vm_insert_page() against the shrinker's zap of the
 *	same page; see the lock order in shrinkable_page_range.c
 * @lock: protects the fields below and the lru membership of this range's
 *	pages: @own_lock, or the caller's lock (spr_init_shared_lock())
 * @own_lock: the range's lock when the caller shares none
 * @pages: one slot per page: NULL when the page is Free, else the page,
 *	with bit 0 set while it is Available and bit 1 while it is on the lru
 * @nr_pages: number of slots, 0 until a vma is registered
 * @vma_addr: user address of page 0
 * @vm_ops: vm_ops of the registered vma, part of its identity
 * @vm_private_data: vm_private_data of the registered vma, part of its
 *	identity
 * @vma_closed: the registered vma is gone; nothing may be inserted again
 * @shrinker_pins: shrinker callbacks that still touch this range after
 *	dropping the lru lock; spr_destroy() waits for them
 * @shrinker_node: entry in the shrinker's list of ranges, for debugfs
 *
 * A driver embeds this structure and initialises it with spr_init() or
 * spr_init_shared_lock(). The fields are private to the module.
 */
struct shrinkable_page_range {
	struct spr_shrinker *shrinker;
	struct mm_struct *mm;
	pid_t pid;
	struct mutex insert_lock;	/* orders inserts against zaps */
	spinlock_t *lock;		/* protects the slots and lru state */
	spinlock_t own_lock;
	struct page **pages;
	size_t nr_pages;
	unsigned long vma_addr;
	const struct vm_operations_struct *vm_ops;
	void *vm_private_data;
	bool vma_closed;
	atomic_t shrinker_pins;
	struct list_head shrinker_node;
};

/**
 * struct spr_range_stats - a snapshot of a range's pages
 * @nr_pages: pages in the range, 0 before spr_register_vma()
 * @free: pages in %SPR_PAGE_FREE
 * @available: pages in %SPR_PAGE_AVAILABLE
 * @in_use: pages in %SPR_PAGE_IN_USE
 */
struct spr_range_stats {
	size_t nr_pages;
	size_t free;
	size_t available;
	size_t in_use;
};

int spr_init(struct shrinkable_page_range *range, struct spr_shrinker *s);
int spr_init_shared_lock(struct shrinkable_page_range *range,
			 struct spr_shrinker *s, spinlock_t *lock);
void spr_destroy(struct shrinkable_page_range *range);
int spr_register_vma(struct shrinkable_page_range *range,
		     struct vm_area_struct *vma);
void spr_vma_close(struct shrinkable_page_range *range);
int spr_use_range(struct shrinkable_page_range *range, size_t start,
		  size_t end);
void spr_stop_using_range(struct shrinkable_page_range *range, size_t start,
			  size_t end);
int spr_use_resident_locked(struct shrinkable_page_range *range, size_t start,
			    size_t end);
void spr_stop_using_range_locked(struct shrinkable_page_range *range,
				 size_t start, size_t end);
enum spr_page_state spr_page_state(struct shrinkable_page_range *range,
				   size_t index);
void spr_range_stats(struct shrinkable_page_range *range,
		     struct spr_range_stats *stats);
int spr_copy_from_user(struct shrinkable_page_range *range, size_t offset,
		       const void __user *from, size_t size);
int spr_read(struct shrinkable_page_range *range, size_t offset, void *to,
	     size_t size);
int spr_write(struct shrinkable_page_range *range, size_t offset,
	      const void *from, size_t size);
int spr_fill_zero(struct shrinkable_page_range *range, size_t offset,
		  size_t size);

#endif /* _SHRINKABLE_PAGE_RANGE_H */
