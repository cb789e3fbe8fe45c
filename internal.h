/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the files of the module, not by its users. */
#ifndef _SPR_INTERNAL_H
#define _SPR_INTERNAL_H

#include <linux/types.h>

struct page;
struct spr_shrinker;

/*
 * A slot of a range holds its page's pointer and two flags: AVAILABLE while
 * the caller does not use the page, ON_LRU while the page's metadata is on
 * the shrinker's lru. An Available page is always on the lru; an In-use page
 * may still be, until the shrinker meets it there and takes it off (see
 * spr_make_in_use()). Slots change only under range->lock, always with
 * WRITE_ONCE(), so that the In-use check of the copies can read them without
 * the lock and without following the pointer to the page's metadata. The
 * tests read slots too, through these helpers.
 */
#define SPR_SLOT_AVAILABLE	1UL
#define SPR_SLOT_ON_LRU		2UL
#define SPR_SLOT_FLAGS		(SPR_SLOT_AVAILABLE | SPR_SLOT_ON_LRU)

static inline struct page *spr_slot_page(struct page *slot)
{
	return (struct page *)((unsigned long)slot & ~SPR_SLOT_FLAGS);
}

static inline bool spr_slot_available(struct page *slot)
{
	return (unsigned long)slot & SPR_SLOT_AVAILABLE;
}

static inline bool spr_slot_on_lru(struct page *slot)
{
	return (unsigned long)slot & SPR_SLOT_ON_LRU;
}

unsigned long spr_reclaim(struct spr_shrinker *s, unsigned long nr_to_scan);

#endif /* _SPR_INTERNAL_H */
