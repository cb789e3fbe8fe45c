/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the files of the module, not by its users. */
#ifndef _SPR_INTERNAL_H
#define _SPR_INTERNAL_H

struct spr_shrinker;

unsigned long spr_reclaim(struct spr_shrinker *s, unsigned long nr_to_scan);

#endif /* _SPR_INTERNAL_H */
