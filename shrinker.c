// SPDX-License-Identifier: GPL-2.0
/*
 * The shrinker that reclaims Available pages of shrinkable page ranges.
 *
 * One list_lru holds the Available pages of every range on the shrinker, and
 * a per-cpu counter counts them: the lru may also hold pages that were taken
 * back In use. The work on the pages, including the locking, is
 * spr_reclaim() in shrinkable_page_range.c.
 */

#include <linux/debugfs.h>
#include <linux/list_lru.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>

#include "internal.h"
#include "shrinkable_page_range.h"
#include "shrinker.h"

/* Keeps lockdep from mixing our lru locks up with other list_lrus'. */
static struct lock_class_key spr_lru_key;

/* shrinkable_page_range/ in debugfs, one directory per shrinker. */
static struct dentry *spr_debugfs_root;

static int spr_stats_show(struct seq_file *m, void *unused)
{
	struct spr_shrinker *s = m->private;

	seq_printf(m, "available: %lu\n", spr_shrinker_count(s));
	seq_printf(m, "reclaimed: %ld\n", atomic_long_read(&s->reclaimed));
	seq_printf(m, "alloc_failed: %ld\n",
		   atomic_long_read(&s->alloc_failed));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(spr_stats);

static int spr_ranges_show(struct seq_file *m, void *unused)
{
	struct spr_shrinker *s = m->private;
	struct shrinkable_page_range *range;
	struct spr_range_stats st;

	mutex_lock(&s->ranges_lock);
	list_for_each_entry(range, &s->ranges, shrinker_node) {
		spr_range_stats(range, &st);
		seq_printf(m, "pid %d pages %zu free %zu available %zu in_use %zu\n",
			   range->pid, st.nr_pages, st.free, st.available,
			   st.in_use);
	}
	mutex_unlock(&s->ranges_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(spr_ranges);

static unsigned long spr_shrink_count(struct shrinker *shrink,
				      struct shrink_control *sc)
{
	return spr_shrinker_count(shrink->private_data);
}

static unsigned long spr_shrink_scan(struct shrinker *shrink,
				     struct shrink_control *sc)
{
	return spr_shrinker_scan(shrink->private_data, sc->nr_to_scan);
}

/**
 * spr_shrinker_register() - set up a shrinker and register it
 * @s: the shrinker, embedded or static
 * @name: name shown in debugfs and in shrinker tracepoints
 *
 * Context: Process context; may sleep.
 * Return: 0, or a negative errno: -ENOMEM when memory is short.
 */
int spr_shrinker_register(struct spr_shrinker *s, const char *name)
{
	int ret;

	ret = __list_lru_init(&s->lru, false, &spr_lru_key, NULL);
	if (ret)
		return ret;
	ret = percpu_counter_init(&s->nr_available, 0, GFP_KERNEL);
	if (ret)
		goto err_lru;

	s->shrinker = shrinker_alloc(0, "%s", name);
	if (!s->shrinker) {
		ret = -ENOMEM;
		goto err_counter;
	}
	atomic_long_set(&s->reclaimed, 0);
	atomic_long_set(&s->alloc_failed, 0);
	mutex_init(&s->ranges_lock);
	INIT_LIST_HEAD(&s->ranges);
	/* debugfs is best effort: a failure here is not an error. */
	s->debugfs = debugfs_create_dir(name, spr_debugfs_root);
	debugfs_create_file("stats", 0444, s->debugfs, s, &spr_stats_fops);
	debugfs_create_file("ranges", 0444, s->debugfs, s, &spr_ranges_fops);
	s->shrinker->count_objects = spr_shrink_count;
	s->shrinker->scan_objects = spr_shrink_scan;
	s->shrinker->private_data = s;
	shrinker_register(s->shrinker);
	return 0;

err_counter:
	percpu_counter_destroy(&s->nr_available);
err_lru:
	list_lru_destroy(&s->lru);
	return ret;
}
EXPORT_SYMBOL_GPL(spr_shrinker_register);

/**
 * spr_shrinker_unregister() - unregister a shrinker and free its lru
 * @s: the shrinker
 *
 * Every range that uses @s must have been destroyed with spr_destroy().
 * Waits for running scans to finish.
 *
 * Context: Process context; may sleep.
 */
void spr_shrinker_unregister(struct spr_shrinker *s)
{
	debugfs_remove_recursive(s->debugfs);
	shrinker_free(s->shrinker);
	s->shrinker = NULL;
	WARN_ON_ONCE(list_lru_count(&s->lru) || !list_empty(&s->ranges));
	percpu_counter_destroy(&s->nr_available);
	list_lru_destroy(&s->lru);
}
EXPORT_SYMBOL_GPL(spr_shrinker_unregister);

/**
 * spr_shrinker_count() - number of Available pages
 * @s: the shrinker
 *
 * Context: Any context but NMI.
 * Return: the number of Available pages of every range on @s. The lru may
 * hold more entries: pages taken back In use, which a scan drops.
 */
unsigned long spr_shrinker_count(struct spr_shrinker *s)
{
	/* Exact, so that drop_caches reclaims down to the last page. */
	return percpu_counter_sum_positive(&s->nr_available);
}
EXPORT_SYMBOL_GPL(spr_shrinker_count);

/**
 * spr_shrinker_scan() - reclaim Available pages, as memory pressure would
 * @s: the shrinker
 * @nr_to_scan: how many lru entries to look at
 *
 * Each Available page looked at is unmapped from user space and freed,
 * unless one of the locks it needs is contended; then it stays Available and
 * moves to the back of the lru. Pages of one range are unmapped and freed in
 * batches. An entry of a page that is In use again is dropped from the lru;
 * it counts as looked at, and nothing is freed.
 *
 * Context: Process context; may sleep.
 * Return: the number of pages freed.
 */
unsigned long spr_shrinker_scan(struct spr_shrinker *s,
				unsigned long nr_to_scan)
{
	return spr_reclaim(s, nr_to_scan);
}
EXPORT_SYMBOL_GPL(spr_shrinker_scan);

/*
 * Built in, drivers that use us (binder) register their shrinkers from
 * their own device_initcall, which may run first: create our debugfs root
 * before any of them. Built as a module, fs_initcall() is module_init().
 */
static int __init spr_module_init(void)
{
	spr_debugfs_root = debugfs_create_dir("shrinkable_page_range", NULL);
	return 0;
}
fs_initcall(spr_module_init);

static void __exit spr_module_exit(void)
{
	debugfs_remove_recursive(spr_debugfs_root);
}
module_exit(spr_module_exit);
