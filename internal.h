/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the files of the module, not by its users. */
#ifndef _SPR_INTERNAL_H
#define _SPR_INTERNAL_H

#include <linux/list_lru.h>

enum lru_status spr_reclaim_page(struct list_head *item,
				 struct list_lru_one *lru,
				 spinlock_t *lru_lock, void *cb_arg);

#endif /* _SPR_INTERNAL_H */
