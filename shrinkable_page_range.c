// SPDX-License-Identifier: GPL-2.0
/*
 * A range of pages that a driver maps read-only into one vma of one process
 * and fills lazily. Pages that the driver stops using are not freed: they
 * are queued on a shrinker's list_lru, and the shrinker unmaps and frees them
 * only under memory pressure. See Documentation/shrinkable_page_range.rst.
 *
 * Each slot of a range is Free (no page), Available (a page on the lru) or
 * In use (a page that the caller owns). The metadata that puts a page on the
 * lru is allocated only for resident pages and lives in page->private; the
 * slot itself says whether the page is Available and whether it is on the
 * lru (internal.h).
 *
 * Taking an Available page back leaves it on the lru, marked In use, and the
 * shrinker drops such entries when it meets them. A page that a driver uses
 * and stops using over and over, as binder does with the page of its next
 * small buffer, so costs no trip through the lru lock once it is queued. The
 * exact number of Available pages is kept in the shrinker's nr_available.
 *
 * Lock order:
 *
 *   shrinker->ranges_lock     (mutex; debugfs, init and destroy only)
 *     range->insert_lock      (mutex)
 *       mm->mmap_lock         (read)
 *         range->lock         (spinlock; may be the caller's own)
 *           lru lock          (the list_lru_node spinlock)
 *
 * range->insert_lock is what orders vm_insert_page() against the shrinker's
 * zap of the same address: both sides hold the mmap lock only for read, so
 * the mmap lock cannot order them. range->lock protects the slots and the
 * lru membership of the range's pages, so a page changes state only under it.
 * It is a pointer: a caller that already holds a spinlock of its own where it
 * picks and frees pages can give the range that lock (spr_init_shared_lock())
 * and call the _locked functions under it.
 *
 * The shrinker's callback is entered with the lru lock held, the reverse of
 * the order above, so it only ever trylocks the other three and skips the
 * page when any of them is contended.
 */

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/wait_bit.h>

#include "internal.h"
#include "shrinkable_page_range.h"

#define CREATE_TRACE_POINTS
#include "spr_trace.h"

/*
 * What a resident page needs to sit on the shrinker's lru. It is reached
 * through page->private; page->lru is not ours to use.
 */
struct spr_page_meta {
	struct list_head lru;
	struct shrinkable_page_range *range;
	size_t index;
};

static struct spr_page_meta *spr_page_meta(struct page *page)
{
	return (struct spr_page_meta *)page_private(page);
}

static unsigned long spr_page_addr(struct shrinkable_page_range *range,
				   size_t index)
{
	return range->vma_addr + (index << PAGE_SHIFT);
}

static void spr_set_slot(struct shrinkable_page_range *range, size_t index,
			 unsigned long slot)
{
	WRITE_ONCE(range->pages[index], (struct page *)slot);
}

/*
 * With range->lock held: make the In-use page of slot @index Available,
 * queueing it on the lru unless it is still there from an earlier stop. The
 * caller counts it, once for all the pages it moves (spr_count_available()).
 */
static void spr_make_available(struct shrinkable_page_range *range,
			       size_t index)
{
	struct page *slot = range->pages[index];
	struct page *page = spr_slot_page(slot);

	lockdep_assert_held(range->lock);
	if (!spr_slot_on_lru(slot))
		list_lru_add(&range->shrinker->lru, &spr_page_meta(page)->lru,
			     page_to_nid(page), NULL);
	spr_set_slot(range, index, (unsigned long)page | SPR_SLOT_FLAGS);
}

/*
 * With range->lock held: make the Available page of slot @index In use. It
 * stays on the lru, so that the next stop need not queue it again; the
 * shrinker skips it and takes it off. The caller counts it.
 */
static void spr_make_in_use(struct shrinkable_page_range *range, size_t index)
{
	lockdep_assert_held(range->lock);
	spr_set_slot(range, index, (unsigned long)range->pages[index] &
				   ~SPR_SLOT_AVAILABLE);
}

/*
 * Add @delta to the shrinker's count of Available pages: once per call that
 * moves pages, not once per page, as the counter is shared by every range.
 */
static void spr_count_available(struct shrinkable_page_range *range,
				long delta)
{
	if (delta)
		percpu_counter_add(&range->shrinker->nr_available, delta);
}

static struct page *spr_alloc_page(struct shrinkable_page_range *range,
				   size_t index)
{
	struct spr_page_meta *meta;
	struct page *page;

	page = alloc_page(GFP_KERNEL | __GFP_HIGHMEM | __GFP_ZERO);
	if (!page)
		goto fail;
	meta = kmalloc(sizeof(*meta), GFP_KERNEL);
	if (!meta) {
		__free_page(page);
		goto fail;
	}
	INIT_LIST_HEAD(&meta->lru);
	meta->range = range;
	meta->index = index;
	set_page_private(page, (unsigned long)meta);
	trace_spr_alloc_page(range, index, true);
	return page;

fail:
	atomic_long_inc(&range->shrinker->alloc_failed);
	trace_spr_alloc_page(range, index, false);
	return NULL;
}

static void spr_free_page(struct page *page)
{
	kfree(spr_page_meta(page));
	set_page_private(page, 0);
	__free_page(page);
}

/*
 * The vma that maps @addr, if it is still the one that was registered.
 * munmap may free a vma once it drops the mmap lock, so the result is only
 * valid while the caller holds that lock; it is never cached. The identity
 * check keeps us out of a mapping that took the address over.
 */
static struct vm_area_struct *spr_find_vma(struct shrinkable_page_range *range,
					   unsigned long addr)
{
	struct vm_area_struct *vma;

	mmap_assert_locked(range->mm);
	/* Inserts and zaps of one range are serialised by this mutex alone. */
	lockdep_assert_held(&range->insert_lock);

	if (READ_ONCE(range->vma_closed))
		return NULL;
	vma = vma_lookup(range->mm, addr);
	if (!vma || vma->vm_ops != range->vm_ops ||
	    vma->vm_private_data != range->vm_private_data ||
	    !(vma->vm_flags & VM_MIXEDMAP))
		return NULL;
	return vma;
}

/*
 * Runs of missing pages are allocated, mapped and published in rounds of at
 * most this many pages: one trip through insert_lock and the mmap lock, and
 * one vm_insert_pages() per vma, per round. It bounds the page array on the
 * stack to the size of a folio_batch.
 */
#define SPR_INSERT_BATCH	32

/*
 * With range->lock held: make the resident pages from @index on In use, up
 * to the first Free slot or @end. Returns the index of that slot or @end.
 */
static size_t spr_claim_resident(struct shrinkable_page_range *range,
				 size_t index, size_t end)
{
	long claimed = 0;

	lockdep_assert_held(range->lock);
	for (; index < end; index++) {
		struct page *slot = range->pages[index];

		if (!slot)
			break;
		if (spr_slot_available(slot)) {
			spr_make_in_use(range, index);
			claimed++;
		}
	}
	spr_count_available(range, -claimed);
	return index;
}

/* With range->lock held: the number of Free slots from @index on. */
static size_t spr_free_run(struct shrinkable_page_range *range, size_t index,
			   size_t end)
{
	size_t next = index;

	lockdep_assert_held(range->lock);
	while (next < end && !range->pages[next])
		next++;
	return next - index;
}

/*
 * Map @nr pages at slot @index into the registered vma with one
 * vm_insert_pages(), and make them In use. Stops early at the end of the vma
 * (user space may have split it). Returns the number of pages mapped, or an
 * error when none was.
 */
static long spr_map_run(struct shrinkable_page_range *range, size_t index,
			struct page **pages, size_t nr)
{
	unsigned long addr = spr_page_addr(range, index);
	struct vm_area_struct *vma;
	unsigned long left;
	size_t i, done;
	int ret;

	vma = spr_find_vma(range, addr);
	if (!vma)
		return -ESRCH;
	nr = min(nr, (size_t)((vma->vm_end - addr) >> PAGE_SHIFT));
	left = nr;
	ret = vm_insert_pages(vma, addr, pages, &left);
	done = nr - left;
	/*
	 * The range is inside the vma, so -EFAULT here means that a page
	 * table above the pte level could not be allocated.
	 */
	if (ret == -EFAULT)
		ret = -ENOMEM;

	spin_lock(range->lock);
	for (i = 0; i < done; i++) {
		WRITE_ONCE(range->pages[index + i], pages[i]);
		pages[i] = NULL;
	}
	spin_unlock(range->lock);
	return done ? done : ret;
}

/*
 * Make the slots [@index, @index + @nr) In use, mapping @pages into the ones
 * that are still Free. Slots that a concurrent spr_use_range() filled since
 * the caller looked are taken back instead, and their entry of @pages
 * is left for the caller to free.
 */
static int spr_map_pages(struct shrinkable_page_range *range, size_t first,
			 struct page **pages, size_t nr)
{
	size_t index = first, end = first + nr, run;
	int ret = 0;
	long mapped;

	lockdep_assert_held(&range->insert_lock);
	/*
	 * The caller is usually not the mm's owner. If our reference were the
	 * last one, a synchronous mmput() here could wait on the owner's exit,
	 * which may be waiting on us: drop it from a workqueue instead.
	 */
	if (!mmget_not_zero(range->mm))
		return -ESRCH;
	mmap_read_lock(range->mm);
	while (index < end) {
		/*
		 * Slots become non-NULL only under insert_lock, which we
		 * hold: a Free run seen here stays Free until we map it.
		 */
		spin_lock(range->lock);
		index = spr_claim_resident(range, index, end);
		run = spr_free_run(range, index, end);
		spin_unlock(range->lock);
		if (!run)
			break;
		mapped = spr_map_run(range, index, pages + (index - first), run);
		if (mapped < 0) {
			ret = mapped;
			break;
		}
		index += mapped;
	}
	mmap_read_unlock(range->mm);
	mmput_async(range->mm);
	return ret;
}

/*
 * Allocate up to @nr pages for the slots from @index on, stopping at the
 * first failure. Returns how many were allocated.
 */
static size_t spr_alloc_pages(struct shrinkable_page_range *range,
			      size_t index, struct page **pages, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		pages[i] = spr_alloc_page(range, index + i);
		if (!pages[i])
			break;
	}
	return i;
}

/* Make the Free run of @nr slots at @index In use, in one locking round. */
static int spr_fill_run(struct shrinkable_page_range *range, size_t index,
			size_t nr)
{
	struct page *pages[SPR_INSERT_BATCH];
	size_t allocated, i;
	int ret;

	allocated = spr_alloc_pages(range, index, pages, nr);
	if (!allocated)
		return -ENOMEM;

	mutex_lock(&range->insert_lock);
	ret = spr_map_pages(range, index, pages, allocated);
	mutex_unlock(&range->insert_lock);

	/* What was not mapped: slots filled meanwhile, or an error. */
	for (i = 0; i < allocated; i++)
		if (pages[i])
			spr_free_page(pages[i]);
	if (!ret && allocated < nr)
		ret = -ENOMEM;
	return ret;
}

/*
 * Whether the pages [@first, @end) exist and are all In use, read without
 * range->lock. Only the caller moves its pages out of In use, so a slot that
 * is In use cannot change under it; any other answer is the caller's bug or
 * a reason to take the lock.
 */
static bool spr_pages_in_use(struct shrinkable_page_range *range,
			     size_t first, size_t end)
{
	/* Pairs with spr_register_vma(): the slots are there to read. */
	size_t nr_pages = smp_load_acquire(&range->nr_pages);
	size_t index;

	if (end > nr_pages)
		return false;
	for (index = first; index < end; index++) {
		struct page *slot = READ_ONCE(range->pages[index]);

		if (!slot || spr_slot_available(slot))
			return false;
	}
	return true;
}

/**
 * spr_use_range() - make pages resident and owned by the caller
 * @range: the range
 * @start: index of the first page
 * @end: index after the last page
 *
 * Every page in [@start, @end) becomes In use: an Available page is taken
 * back (it stays on the shrinker's lru, which drops it when it meets it),
 * and a Free page is allocated zeroed and inserted into the registered vma.
 * Concurrent calls on the same pages are allowed; each returns once the
 * pages are mapped.
 *
 * On failure the pages before the failing one stay In use. The caller owns
 * them and gives them back with spr_stop_using_range(); the range cannot do
 * it, because the caller may share a page between two of its buffers.
 *
 * Context: Process context; may sleep. Takes range->lock, and for Free pages
 * range->insert_lock and the mmap lock for read; none of them when every
 * page is In use already.
 * Return: 0 on success (also when @start >= @end), -EINVAL if @end is past
 * the registered size, -ENOMEM if a page cannot be allocated or mapped, or
 * -ESRCH if the mm has exited or the registered vma is gone or replaced.
 */
int spr_use_range(struct shrinkable_page_range *range, size_t start,
		  size_t end)
{
	size_t index = end;
	int ret = 0;

	/*
	 * Check the caller's context even on the lockless fast path, as
	 * might_fault() does, but without might_sleep()'s preemption point:
	 * binder takes that path on every transaction.
	 */
	__might_sleep(__FILE__, __LINE__);
	if (start >= end)
		return 0;
	/*
	 * Pages that are all In use already, such as the page that a small
	 * buffer shares with its neighbour, need neither lock nor lru.
	 */
	if (!READ_ONCE(range->vma_closed) &&
	    spr_pages_in_use(range, start, end))
		goto out;

	spin_lock(range->lock);
	if (end > range->nr_pages)
		ret = -EINVAL;
	else if (range->vma_closed)
		ret = -ESRCH;
	else
		index = spr_claim_resident(range, start, end);
	while (!ret && index < end) {
		size_t run = spr_free_run(range, index,
					  min(end, index + SPR_INSERT_BATCH));

		spin_unlock(range->lock);
		ret = spr_fill_run(range, index, run);
		spin_lock(range->lock);
		if (ret)
			break;
		index = spr_claim_resident(range, index + run, end);
	}
	spin_unlock(range->lock);
out:
	trace_spr_use_range(range, start, end, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(spr_use_range);

/**
 * spr_stop_using_range() - hand resident pages to the shrinker
 * @range: the range
 * @start: index of the first page
 * @end: index after the last page
 *
 * Every resident page in [@start, @end) becomes Available: it stays mapped
 * and keeps its contents until the shrinker reclaims it, and spr_use_range()
 * can take it back cheaply until then. Free pages are left alone.
 *
 * Context: Any context but hard irq; does not sleep. Takes range->lock, and
 * the lru lock for a page that is not on the lru yet.
 */
void spr_stop_using_range(struct shrinkable_page_range *range, size_t start,
			  size_t end)
{
	if (start >= end)
		return;

	spin_lock(range->lock);
	spr_stop_using_range_locked(range, start, end);
	spin_unlock(range->lock);
}
EXPORT_SYMBOL_GPL(spr_stop_using_range);

/**
 * spr_stop_using_range_locked() - spr_stop_using_range(), under the range's lock
 * @range: a range that shares its caller's lock (spr_init_shared_lock())
 * @start: index of the first page
 * @end: index after the last page
 *
 * For a caller that holds the lock it gave the range already, such as
 * binder freeing a buffer under alloc->lock.
 *
 * Context: Any context but hard irq; does not sleep. The range's lock must
 * be held. Takes the lru lock for a page that is not on the lru yet.
 */
void spr_stop_using_range_locked(struct shrinkable_page_range *range,
				 size_t start, size_t end)
{
	long stopped = 0;
	size_t index;
	int ret = 0;

	lockdep_assert_held(range->lock);
	if (start >= end)
		return;
	if (WARN_ON_ONCE(end > range->nr_pages)) {
		ret = -EINVAL;
		goto out;
	}
	/* Queue the last page first, so that the shrinker frees it first. */
	for (index = end; index-- > start;) {
		struct page *slot = range->pages[index];

		if (slot && !spr_slot_available(slot)) {
			spr_make_available(range, index);
			stopped++;
		}
	}
	spr_count_available(range, stopped);
out:
	trace_spr_stop_using_range(range, start, end, ret);
}
EXPORT_SYMBOL_GPL(spr_stop_using_range_locked);

/**
 * spr_use_resident_locked() - take resident pages back, under the range's lock
 * @range: a range that shares its caller's lock (spr_init_shared_lock())
 * @start: index of the first page
 * @end: index after the last page
 *
 * Every Available page in [@start, @end) becomes In use, as spr_use_range()
 * would make it; Free pages stay Free. The caller then calls
 * spr_use_range() on the same pages once it has dropped the lock: it maps
 * the Free ones, and returns at once, taking no lock, when there are none.
 * A caller that picks its pages under its own lock, such as binder
 * allocating a buffer under alloc->lock, so takes them back without a lock
 * round trip of its own.
 *
 * Context: Any context but hard irq; does not sleep. The range's lock must
 * be held.
 * Return: 0, or -EINVAL if @end is past the registered size; then no page
 * changes.
 */
int spr_use_resident_locked(struct shrinkable_page_range *range, size_t start,
			    size_t end)
{
	long claimed = 0;
	size_t index;

	lockdep_assert_held(range->lock);
	if (end > range->nr_pages)
		return -EINVAL;
	for (index = start; index < end; index++) {
		if (spr_slot_available(range->pages[index])) {
			spr_make_in_use(range, index);
			claimed++;
		}
	}
	spr_count_available(range, -claimed);
	return 0;
}
EXPORT_SYMBOL_GPL(spr_use_resident_locked);

/**
 * spr_page_state() - the state of one page
 * @range: the range
 * @index: index of the page
 *
 * The answer may be stale by the time the caller looks at it, unless the
 * caller itself is what keeps the page in its state.
 *
 * Context: Any context but hard irq. Takes range->lock.
 * Return: the state of page @index; %SPR_PAGE_FREE for an index past the end.
 */
enum spr_page_state spr_page_state(struct shrinkable_page_range *range,
				   size_t index)
{
	enum spr_page_state state = SPR_PAGE_FREE;
	struct page *slot;

	spin_lock(range->lock);
	slot = index < range->nr_pages ? range->pages[index] : NULL;
	if (slot)
		state = spr_slot_available(slot) ? SPR_PAGE_AVAILABLE :
						   SPR_PAGE_IN_USE;
	spin_unlock(range->lock);
	return state;
}
EXPORT_SYMBOL_GPL(spr_page_state);

/**
 * spr_range_stats() - count a range's pages in each state
 * @range: the range
 * @stats: filled in with the counts
 *
 * Walks every slot under range->lock, so it is meant for debugging output
 * and tests, not for a fast path.
 *
 * Context: Any context but hard irq. Takes range->lock.
 */
void spr_range_stats(struct shrinkable_page_range *range,
		     struct spr_range_stats *stats)
{
	size_t index;

	memset(stats, 0, sizeof(*stats));
	spin_lock(range->lock);
	stats->nr_pages = range->nr_pages;
	for (index = 0; index < range->nr_pages; index++) {
		struct page *slot = range->pages[index];

		if (!slot)
			stats->free++;
		else if (spr_slot_available(slot))
			stats->available++;
		else
			stats->in_use++;
	}
	spin_unlock(range->lock);
}
EXPORT_SYMBOL_GPL(spr_range_stats);

/*
 * Call @fn on each page-sized chunk of the @size bytes at @offset, after
 * checking that they lie inside the range and that every page they touch is
 * In use. Any other page is the caller's bug, and then no byte is touched.
 * The caller owns those pages, so neither the check nor the copy needs
 * range->lock. Inlined into each copy, so that @fn is a direct call and not
 * one through a retpoline per page.
 */
static __always_inline int
spr_walk_chunks(struct shrinkable_page_range *range, size_t offset,
		size_t size,
		int (*fn)(struct page *page, size_t offset, size_t len,
			  void *cursor),
		void *cursor)
{
	size_t end;
	int ret;

	if (!size)
		return 0;
	if (check_add_overflow(offset, size, &end) ||
	    !spr_pages_in_use(range, offset >> PAGE_SHIFT,
			      ((end - 1) >> PAGE_SHIFT) + 1))
		return -EFAULT;

	while (offset < end) {
		size_t in_page = offset_in_page(offset);
		size_t len = min(end - offset, PAGE_SIZE - in_page);

		ret = fn(spr_slot_page(range->pages[offset >> PAGE_SHIFT]),
			 in_page, len, cursor);
		if (ret)
			return ret;
		offset += len;
	}
	return 0;
}

static int spr_chunk_read(struct page *page, size_t offset, size_t len,
			  void *cursor)
{
	char **to = cursor;

	memcpy_from_page(*to, page, offset, len);
	*to += len;
	return 0;
}

static int spr_chunk_write(struct page *page, size_t offset, size_t len,
			   void *cursor)
{
	const char **from = cursor;

	memcpy_to_page(page, offset, *from, len);
	*from += len;
	return 0;
}

static int spr_chunk_zero(struct page *page, size_t offset, size_t len,
			  void *cursor)
{
	memzero_page(page, offset, len);
	return 0;
}

static int spr_chunk_copy_from_user(struct page *page, size_t offset,
				    size_t len, void *cursor)
{
	const char __user **from = cursor;
	unsigned long left;
	char *kaddr;

	/*
	 * Not copy_from_user(): on a fault it pads the rest with zeroes,
	 * and these bytes are user-visible data, not uninitialised memory.
	 * A failed copy changes only the bytes that it did copy.
	 */
	if (!access_ok(*from, len))
		return -EFAULT;
	kaddr = kmap_local_page(page);
	left = __copy_from_user(kaddr + offset, *from, len);
	kunmap_local(kaddr);
	flush_dcache_page(page);
	if (left)
		return -EFAULT;
	*from += len;
	return 0;
}

/**
 * spr_copy_from_user() - copy bytes from user space into In-use pages
 * @range: the range
 * @offset: byte offset into the range
 * @from: user address to copy from
 * @size: number of bytes
 *
 * Context: Process context; may fault on @from and sleep.
 * Return: 0, or -EFAULT if the bytes overflow or pass the end of the range,
 * a page they touch is not In use, or the user copy faults. The first two
 * change no byte of the range; after a user fault, the bytes before it may
 * have been copied, and no other byte changes.
 */
int spr_copy_from_user(struct shrinkable_page_range *range, size_t offset,
		       const void __user *from, size_t size)
{
	return spr_walk_chunks(range, offset, size,
			       spr_chunk_copy_from_user, &from);
}
EXPORT_SYMBOL_GPL(spr_copy_from_user);

/**
 * spr_read() - copy bytes out of In-use pages
 * @range: the range
 * @offset: byte offset into the range
 * @to: kernel buffer of @size bytes
 * @size: number of bytes
 *
 * Context: Any context but hard irq.
 * Return: 0, or -EFAULT if the bytes overflow or pass the end of the range,
 * or a page they touch is not In use.
 */
int spr_read(struct shrinkable_page_range *range, size_t offset, void *to,
	     size_t size)
{
	return spr_walk_chunks(range, offset, size, spr_chunk_read, &to);
}
EXPORT_SYMBOL_GPL(spr_read);

/**
 * spr_write() - copy bytes into In-use pages
 * @range: the range
 * @offset: byte offset into the range
 * @from: kernel buffer of @size bytes
 * @size: number of bytes
 *
 * Context: Any context but hard irq.
 * Return: 0, or -EFAULT if the bytes overflow or pass the end of the range,
 * or a page they touch is not In use; then no byte changes.
 */
int spr_write(struct shrinkable_page_range *range, size_t offset,
	      const void *from, size_t size)
{
	return spr_walk_chunks(range, offset, size, spr_chunk_write, &from);
}
EXPORT_SYMBOL_GPL(spr_write);

/**
 * spr_fill_zero() - zero bytes of In-use pages
 * @range: the range
 * @offset: byte offset into the range
 * @size: number of bytes
 *
 * Context: Any context but hard irq.
 * Return: 0, or -EFAULT if the bytes overflow or pass the end of the range,
 * or a page they touch is not In use; then no byte changes.
 */
int spr_fill_zero(struct shrinkable_page_range *range, size_t offset,
		  size_t size)
{
	return spr_walk_chunks(range, offset, size, spr_chunk_zero, NULL);
}
EXPORT_SYMBOL_GPL(spr_fill_zero);

/* Take the Available page of @meta off the lru and out of its slot. */
static struct page *spr_isolate_page(struct shrinkable_page_range *range,
				     struct spr_page_meta *meta,
				     struct list_lru_one *lru)
{
	struct page *page = spr_slot_page(range->pages[meta->index]);

	lockdep_assert_held(range->lock);
	list_lru_isolate(lru, &meta->lru);
	spr_set_slot(range, meta->index, 0);
	percpu_counter_dec(&range->shrinker->nr_available);
	return page;
}

/* Take the In-use page of @meta off the lru, where spr_make_in_use() left it. */
static void spr_unqueue_in_use(struct shrinkable_page_range *range,
			       struct spr_page_meta *meta,
			       struct list_lru_one *lru)
{
	lockdep_assert_held(range->lock);
	list_lru_isolate(lru, &meta->lru);
	spr_set_slot(range, meta->index,
		     (unsigned long)range->pages[meta->index] & ~SPR_SLOT_ON_LRU);
}

/*
 * The shrinker frees pages in batches of up to this many pages of one range,
 * taking that range's locks once and zapping each contiguous run of them
 * with one zap_page_range_single(), so one TLB flush. The size is that of a
 * folio_batch, which reclaim already keeps on the stack.
 */
#define SPR_RECLAIM_BATCH	32

/*
 * One batch of the shrinker. While @range is set, we hold a pin on it and,
 * if @mm_live, a reference on its mm, its insert_lock and its mmap lock for
 * read. An mm that has exited needs neither: its page tables are gone, and
 * nothing can be mapped into it again.
 */
struct spr_reclaim_batch {
	struct shrinkable_page_range *range;
	bool mm_live;
	unsigned long visited;
	unsigned int nr;
	struct page *pages[SPR_RECLAIM_BATCH];
};

/*
 * Start a batch on @range, from the lru walk. Trylocks only: the lru lock is
 * held, the reverse of our lock order. While a page of @range is on the lru
 * and the lru lock is held, spr_destroy() cannot have finished with @range;
 * the pin keeps it alive once the lru lock is dropped.
 */
static bool spr_reclaim_start(struct spr_reclaim_batch *batch,
			      struct shrinkable_page_range *range)
{
	batch->mm_live = mmget_not_zero(range->mm);
	if (batch->mm_live) {
		if (!mutex_trylock(&range->insert_lock))
			goto err_mmput;
		if (!mmap_read_trylock(range->mm))
			goto err_mutex;
	}
	atomic_inc(&range->shrinker_pins);
	batch->range = range;
	return true;

err_mutex:
	mutex_unlock(&range->insert_lock);
err_mmput:
	/* Atomic-safe: the final put is deferred to a workqueue. */
	mmput_async(range->mm);
	return false;
}

/*
 * list_lru_walk() callback: move one Available page into the batch, or drop
 * a page that is In use again from the lru. An Available page of another
 * range, or one past a full batch, ends the walk, so that the batch can be
 * zapped and freed without the lru lock. Dropping an In-use page needs only
 * range->lock, so it never ends the walk.
 *
 * While the page is on the lru and the lru lock is held, spr_destroy() has
 * not freed the range's slots, so they can be read here for a first look.
 */
static enum lru_status spr_reclaim_isolate(struct list_head *item,
					   struct list_lru_one *lru,
					   spinlock_t *lru_lock, void *cb_arg)
{
	struct spr_page_meta *meta = container_of(item, struct spr_page_meta,
						  lru);
	struct shrinkable_page_range *range = meta->range;
	struct spr_reclaim_batch *batch = cb_arg;
	bool available;

	available = spr_slot_available(READ_ONCE(range->pages[meta->index]));
	/* Not counted as looked at: the next walk starts with this page. */
	if (available && batch->range &&
	    (batch->range != range || batch->nr == ARRAY_SIZE(batch->pages)))
		return LRU_STOP;
	batch->visited++;
	/* Contended pages go to the back, so the next walk starts elsewhere. */
	if (available && !batch->range && !spr_reclaim_start(batch, range))
		return LRU_ROTATE;
	if (!spin_trylock(range->lock))
		return LRU_ROTATE;
	if (!spr_slot_available(range->pages[meta->index])) {
		spr_unqueue_in_use(range, meta, lru);
	} else if (available && batch->range == range) {
		batch->pages[batch->nr++] = spr_isolate_page(range, meta, lru);
	} else {
		/* Stopped since the first look; we hold no lock to free it. */
		spin_unlock(range->lock);
		return LRU_ROTATE;
	}
	spin_unlock(range->lock);
	return LRU_REMOVED;
}

static size_t spr_page_index(struct page *page)
{
	return spr_page_meta(page)->index;
}

static int spr_cmp_page_index(const void *a, const void *b)
{
	size_t ia = spr_page_index(*(struct page * const *)a);
	size_t ib = spr_page_index(*(struct page * const *)b);

	return ia < ib ? -1 : ia > ib;
}

/*
 * Unmap the @nr pages from slot @index on, one zap per part of the
 * registered vma that they lie in. Where no registered vma maps a page,
 * nothing of ours is there to unmap.
 */
static void spr_zap_run(struct shrinkable_page_range *range, size_t index,
			size_t nr)
{
	unsigned long addr = spr_page_addr(range, index);
	unsigned long end = addr + (nr << PAGE_SHIFT);
	struct vm_area_struct *vma;
	unsigned long len;

	while (addr < end) {
		vma = spr_find_vma(range, addr);
		len = vma ? min(end, vma->vm_end) - addr : PAGE_SIZE;
		if (vma)
			zap_page_range_single(vma, addr, len, NULL);
		for (; len; len -= PAGE_SIZE, index++)
			trace_spr_reclaim_page(range, index, !!vma);
		addr = spr_page_addr(range, index);
	}
}

/* Unmap the batch's pages, one zap per contiguous run of indexes. */
static void spr_zap_batch(struct spr_reclaim_batch *batch)
{
	unsigned int i, run;

	/* The lru holds a span's pages last first; runs need them sorted. */
	sort(batch->pages, batch->nr, sizeof(batch->pages[0]),
	     spr_cmp_page_index, NULL);
	for (i = 0; i < batch->nr; i += run) {
		size_t first = spr_page_index(batch->pages[i]);

		for (run = 1; i + run < batch->nr; run++)
			if (spr_page_index(batch->pages[i + run]) != first + run)
				break;
		spr_zap_run(batch->range, first, run);
	}
}

/* Zap and free the batch's pages, and drop what spr_reclaim_start() took. */
static unsigned long spr_reclaim_finish(struct spr_reclaim_batch *batch)
{
	struct shrinkable_page_range *range = batch->range;
	struct mm_struct *mm = range->mm;
	unsigned int i;

	if (batch->mm_live) {
		/* Zap before the mutex goes, so no insert finds a stale pte. */
		spr_zap_batch(batch);
		mmap_read_unlock(mm);
		mutex_unlock(&range->insert_lock);
	} else {
		for (i = 0; i < batch->nr; i++)
			trace_spr_reclaim_page(range,
					       spr_page_index(batch->pages[i]),
					       false);
	}
	/*
	 * The last access to @range: spr_destroy() may free it once the pin
	 * is gone. wake_up_var() only hashes the address.
	 */
	if (atomic_dec_and_test(&range->shrinker_pins))
		wake_up_var(&range->shrinker_pins);
	if (batch->mm_live)
		mmput_async(mm);

	for (i = 0; i < batch->nr; i++)
		spr_free_page(batch->pages[i]);
	return batch->nr;
}

/**
 * spr_reclaim() - free up to @nr_to_scan Available pages of a shrinker
 * @s: the shrinker
 * @nr_to_scan: how many lru entries to look at
 *
 * Walks the lru in batches of one range's pages: isolating under the lru
 * lock, then zapping and freeing without it. The range's locks are only ever
 * trylocked, so a page whose range is busy is skipped and stays Available.
 *
 * Return: the number of pages freed.
 */
unsigned long spr_reclaim(struct spr_shrinker *s, unsigned long nr_to_scan)
{
	unsigned long freed = 0;

	while (nr_to_scan) {
		struct spr_reclaim_batch batch = {};

		list_lru_walk(&s->lru, spr_reclaim_isolate, &batch, nr_to_scan);
		nr_to_scan -= min(batch.visited, nr_to_scan);
		/*
		 * No batch was started: the lru is empty, or held only pages
		 * that were contended or In use again.
		 */
		if (!batch.range)
			break;
		freed += spr_reclaim_finish(&batch);
	}
	atomic_long_add(freed, &s->reclaimed);
	return freed;
}

/**
 * spr_register_vma() - attach a range to the vma that maps it
 * @range: the range
 * @vma: the vma, from the driver's mmap handler
 *
 * Call this from the driver's mmap handler, after it has set vm_ops and
 * vm_private_data: they are recorded as the vma's identity, and later inserts
 * and zaps only touch a vma that still has them. The range covers the first
 * min(vma size, %SPR_MAX_BYTES) bytes of the vma. Sets %VM_MIXEDMAP, which
 * needs the mmap lock held for write, as it is in an mmap handler.
 *
 * Context: Process context, mmap lock held for write.
 * Return: the number of pages in the range, -EINVAL if @vma is not in the
 * range's mm or covers no page, -EBUSY if a vma was registered before, or
 * -ENOMEM.
 */
int spr_register_vma(struct shrinkable_page_range *range,
		     struct vm_area_struct *vma)
{
	size_t bytes = min(vma->vm_end - vma->vm_start, (unsigned long)SPR_MAX_BYTES);
	size_t nr_pages = bytes >> PAGE_SHIFT;
	struct page **pages;
	int ret = 0;

	if (vma->vm_mm != range->mm || !nr_pages)
		return -EINVAL;

	pages = kvcalloc(nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	spin_lock(range->lock);
	if (range->nr_pages || range->vma_closed) {
		ret = -EBUSY;
	} else {
		range->pages = pages;
		/* Pairs with the lockless reader, spr_pages_in_use(). */
		smp_store_release(&range->nr_pages, nr_pages);
		range->vma_addr = vma->vm_start;
		range->vm_ops = vma->vm_ops;
		range->vm_private_data = vma->vm_private_data;
	}
	spin_unlock(range->lock);
	if (ret) {
		kvfree(pages);
		return ret;
	}

	vm_flags_set(vma, VM_MIXEDMAP);
	return nr_pages;
}
EXPORT_SYMBOL_GPL(spr_register_vma);

/**
 * spr_vma_close() - tell the range that its vma is going away
 * @range: the range
 *
 * For the driver's vm_ops->close. Nothing is inserted into the range's vma
 * after this, and spr_use_range() fails with -ESRCH. Pages stay allocated
 * until the shrinker or spr_destroy() frees them.
 *
 * Context: Any context but hard irq. Takes range->lock.
 */
void spr_vma_close(struct shrinkable_page_range *range)
{
	spin_lock(range->lock);
	WRITE_ONCE(range->vma_closed, true);
	spin_unlock(range->lock);
}
EXPORT_SYMBOL_GPL(spr_vma_close);

/* spr_init() with the caller's @lock, or with a lock of the range's own. */
static int spr_init_range(struct shrinkable_page_range *range,
			  struct spr_shrinker *s, spinlock_t *lock)
{
	struct mm_struct *mm = current->mm;

	if (!mm)
		return -ESRCH;

	memset(range, 0, sizeof(*range));
	range->shrinker = s;
	range->mm = mm;
	range->pid = task_tgid_nr(current);
	mmgrab(mm);
	mutex_init(&range->insert_lock);
	spin_lock_init(&range->own_lock);
	range->lock = lock ?: &range->own_lock;
	atomic_set(&range->shrinker_pins, 0);

	mutex_lock(&s->ranges_lock);
	list_add_tail(&range->shrinker_node, &s->ranges);
	mutex_unlock(&s->ranges_lock);
	return 0;
}

/**
 * spr_init() - initialise a range for the current process
 * @range: the range, embedded in the caller's structure
 * @s: a registered shrinker to hand Available pages to
 *
 * The range belongs to current's mm, which it pins with mmgrab() until
 * spr_destroy(). It has no pages until spr_register_vma().
 *
 * Context: Process context.
 * Return: 0, or -ESRCH if current has no mm.
 */
int spr_init(struct shrinkable_page_range *range, struct spr_shrinker *s)
{
	return spr_init_range(range, s, NULL);
}
EXPORT_SYMBOL_GPL(spr_init);

/**
 * spr_init_shared_lock() - initialise a range that uses its caller's lock
 * @range: the range, embedded in the caller's structure
 * @s: a registered shrinker to hand Available pages to
 * @lock: an initialised spinlock of the caller, to protect the range's slots
 *
 * As spr_init(), except that the range takes @lock instead of a lock of its
 * own, so that a caller that already holds @lock where it picks or frees
 * pages can call spr_use_resident_locked() and spr_stop_using_range_locked()
 * and add no lock round trip. @lock takes the range lock's place in the lock
 * order: inside the mmap lock, outside the lru lock. The caller must not
 * hold it when it calls any other function of the range, nor sleep under
 * it; the shrinker only ever trylocks it.
 *
 * Context: Process context.
 * Return: 0, -ESRCH if current has no mm, or -EINVAL if @lock is NULL.
 */
int spr_init_shared_lock(struct shrinkable_page_range *range,
			 struct spr_shrinker *s, spinlock_t *lock)
{
	if (!lock)
		return -EINVAL;
	return spr_init_range(range, s, lock);
}
EXPORT_SYMBOL_GPL(spr_init_shared_lock);

/* With range->lock held: take the page of slot @index off the lru for good. */
static void spr_lru_forget(struct shrinkable_page_range *range, size_t index)
{
	struct page *slot = range->pages[index];
	struct page *page = spr_slot_page(slot);

	lockdep_assert_held(range->lock);
	list_lru_del(&range->shrinker->lru, &spr_page_meta(page)->lru,
		     page_to_nid(page), NULL);
	if (spr_slot_available(slot))
		percpu_counter_dec(&range->shrinker->nr_available);
	spr_set_slot(range, index, (unsigned long)page);
}

/**
 * spr_destroy() - free every page of a range and release its mm
 * @range: the range
 *
 * Takes every page off the shrinker's lru, waits for shrinker callbacks that
 * are still working on this range, then frees the pages, the slot array and
 * the mm reference. A concurrent shrinker is fine; any other call on @range
 * must have returned, and none may follow.
 *
 * Context: Process context; may sleep.
 */
void spr_destroy(struct shrinkable_page_range *range)
{
	struct page **pages;
	size_t nr_pages, index;

	might_sleep();
	mutex_lock(&range->shrinker->ranges_lock);
	list_del(&range->shrinker_node);
	mutex_unlock(&range->shrinker->ranges_lock);

	spin_lock(range->lock);
	pages = range->pages;
	nr_pages = range->nr_pages;
	for (index = 0; index < nr_pages; index++)
		if (spr_slot_on_lru(pages[index]))
			spr_lru_forget(range, index);
	range->pages = NULL;
	WRITE_ONCE(range->nr_pages, 0);
	spin_unlock(range->lock);

	/*
	 * No callback can find our pages on the lru now, but one that
	 * isolated a page before the loop may still hold our locks.
	 */
	wait_var_event(&range->shrinker_pins,
		       !atomic_read(&range->shrinker_pins));

	for (index = 0; index < nr_pages; index++)
		if (pages[index])
			spr_free_page(spr_slot_page(pages[index]));
	kvfree(pages);
	mmdrop(range->mm);
	range->mm = NULL;
}
EXPORT_SYMBOL_GPL(spr_destroy);

MODULE_DESCRIPTION("Lazily populated page ranges reclaimed by a shrinker");
MODULE_LICENSE("GPL");
