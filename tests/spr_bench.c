// SPDX-License-Identifier: GPL-2.0
/*
 * spr_bench: times shrinkable page ranges against the kernel primitives they
 * are built on, in the same kernel and the same run.
 *
 * A process opens /dev/spr_bench, which creates a range on a shrinker of its
 * own, and maps it twice (see spr_bench_uapi.h): the range under test, and a
 * raw VM_MIXEDMAP mapping for the floor cases, which call alloc_page(),
 * vm_insert_page(s)(), zap_page_range_single() and list_lru_add()/del()
 * directly. SPR_BENCH_IOC_RUN times one case and returns the wall time of
 * each round; user space takes the medians and the ratios.
 *
 * SPR_BENCH_IOC_MEM reports what the module allocated for the range, as
 * ksize() sees it. To find those allocations it reads two private fields of
 * the module: the slot array and page->private. It never writes them.
 */

#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/list_lru.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "../internal.h"
#include "../shrinkable_page_range.h"
#include "spr_bench_uapi.h"

#define SPR_BENCH_PAGES	(SPR_BENCH_BYTES >> PAGE_SHIFT)

struct spr_bench_file {
	struct shrinkable_page_range range;
	struct mutex lock;		/* one case at a time */
	/* Set once by mmap, without the lock; READ_ONCE() them. */
	size_t nr_pages;		/* of the range, once it is mapped */
	unsigned long raw_addr;		/* of the raw mapping, once mapped */
	/* Scratch space of the floor cases, one entry per page. */
	struct page **pages;
	struct list_head *items;
};

static struct spr_shrinker spr_bench_shrinker;
/* The lru that the floor cases add to and delete from. */
static struct list_lru spr_bench_lru;

static vm_fault_t spr_bench_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static void spr_bench_vma_close(struct vm_area_struct *vma)
{
	struct spr_bench_file *bf = vma->vm_private_data;

	spr_vma_close(&bf->range);
}

static const struct vm_operations_struct spr_bench_range_ops = {
	.close = spr_bench_vma_close,
	.fault = spr_bench_fault,
};

static const struct vm_operations_struct spr_bench_raw_ops = {
	.fault = spr_bench_fault,
};

static int spr_bench_open(struct inode *inode, struct file *file)
{
	struct spr_bench_file *bf;
	int ret;

	bf = kzalloc(sizeof(*bf), GFP_KERNEL);
	if (!bf)
		return -ENOMEM;
	bf->pages = kvcalloc(SPR_BENCH_PAGES, sizeof(*bf->pages), GFP_KERNEL);
	bf->items = kvcalloc(SPR_BENCH_PAGES, sizeof(*bf->items), GFP_KERNEL);
	ret = bf->pages && bf->items ? 0 : -ENOMEM;
	if (!ret)
		ret = spr_init(&bf->range, &spr_bench_shrinker);
	if (ret) {
		kvfree(bf->items);
		kvfree(bf->pages);
		kfree(bf);
		return ret;
	}
	mutex_init(&bf->lock);
	file->private_data = bf;
	return 0;
}

static int spr_bench_release(struct inode *inode, struct file *file)
{
	struct spr_bench_file *bf = file->private_data;

	spr_destroy(&bf->range);
	kvfree(bf->items);
	kvfree(bf->pages);
	kfree(bf);
	return 0;
}

static int spr_bench_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct spr_bench_file *bf = file->private_data;
	bool raw = vma->vm_pgoff == SPR_BENCH_RAW_OFFSET >> PAGE_SHIFT;
	int ret;

	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	if (vma->vm_end - vma->vm_start != SPR_BENCH_BYTES ||
	    (vma->vm_pgoff && !raw))
		return -EINVAL;
	vm_flags_mod(vma, VM_DONTCOPY | VM_MIXEDMAP, VM_MAYWRITE);
	vma->vm_private_data = bf;
	/*
	 * Not under bf->lock: the ioctls take it before the mmap lock, and
	 * we are called with the mmap lock held. Each mapping is set once.
	 */
	if (raw) {
		vma->vm_ops = &spr_bench_raw_ops;
		return cmpxchg(&bf->raw_addr, 0, vma->vm_start) ? -EBUSY : 0;
	}
	vma->vm_ops = &spr_bench_range_ops;
	ret = spr_register_vma(&bf->range, vma);
	if (ret < 0)
		return ret;
	WRITE_ONCE(bf->nr_pages, ret);
	return 0;
}

/* The raw mapping, valid while the caller holds the mmap lock. */
static struct vm_area_struct *spr_bench_raw_vma(struct spr_bench_file *bf)
{
	struct vm_area_struct *vma;

	mmap_assert_locked(current->mm);
	vma = vma_lookup(current->mm, READ_ONCE(bf->raw_addr));
	if (!vma || vma->vm_ops != &spr_bench_raw_ops ||
	    vma->vm_private_data != bf ||
	    vma->vm_end - vma->vm_start != SPR_BENCH_BYTES)
		return NULL;
	return vma;
}

/* Unmap the raw mapping and free the scratch pages. */
static void spr_bench_raw_clear(struct spr_bench_file *bf, size_t nr)
{
	struct vm_area_struct *vma;
	size_t i;

	mmap_read_lock(current->mm);
	vma = spr_bench_raw_vma(bf);
	if (vma)
		zap_page_range_single(vma, vma->vm_start, nr << PAGE_SHIFT,
				      NULL);
	mmap_read_unlock(current->mm);
	for (i = 0; i < nr; i++) {
		if (bf->pages[i])
			__free_page(bf->pages[i]);
		bf->pages[i] = NULL;
	}
}

static int spr_bench_alloc_pages(struct spr_bench_file *bf, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		bf->pages[i] = alloc_page(GFP_KERNEL | __GFP_HIGHMEM |
					  __GFP_ZERO);
		if (!bf->pages[i])
			return -ENOMEM;
	}
	return 0;
}

static int spr_bench_insert_pages(struct vm_area_struct *vma,
				  struct page **pages, size_t nr)
{
	unsigned long left = nr;

	return vm_insert_pages(vma, vma->vm_start, pages, &left);
}

/* The floor of a cold spr_use_range(): allocate, zero and map. */
static int spr_bench_floor_insert(struct spr_bench_file *bf, size_t nr,
				  bool batch, u64 *ns)
{
	struct vm_area_struct *vma;
	u64 start = ktime_get_ns();
	size_t i;
	int ret;

	mmap_read_lock(current->mm);
	vma = spr_bench_raw_vma(bf);
	ret = vma ? spr_bench_alloc_pages(bf, nr) : -ESRCH;
	if (!ret && batch)
		ret = spr_bench_insert_pages(vma, bf->pages, nr);
	for (i = 0; !ret && !batch && i < nr; i++)
		ret = vm_insert_page(vma, vma->vm_start + (i << PAGE_SHIFT),
				     bf->pages[i]);
	mmap_read_unlock(current->mm);
	*ns = ktime_get_ns() - start;

	spr_bench_raw_clear(bf, nr);
	return ret;
}

/* The floor of reclaim: unmap and free, without the lru or any lock. */
static int spr_bench_floor_zap(struct spr_bench_file *bf, size_t nr,
			       bool batch, u64 *ns)
{
	struct vm_area_struct *vma;
	u64 start;
	size_t i;
	int ret;

	mmap_read_lock(current->mm);
	vma = spr_bench_raw_vma(bf);
	ret = vma ? spr_bench_alloc_pages(bf, nr) : -ESRCH;
	if (!ret)
		ret = spr_bench_insert_pages(vma, bf->pages, nr);
	mmap_read_unlock(current->mm);
	if (ret) {
		spr_bench_raw_clear(bf, nr);
		return ret;
	}

	start = ktime_get_ns();
	mmap_read_lock(current->mm);
	vma = spr_bench_raw_vma(bf);
	if (vma && batch)
		zap_page_range_single(vma, vma->vm_start, nr << PAGE_SHIFT,
				      NULL);
	for (i = 0; vma && i < nr; i++) {
		if (!batch)
			zap_page_range_single(vma,
					      vma->vm_start + (i << PAGE_SHIFT),
					      PAGE_SIZE, NULL);
		__free_page(bf->pages[i]);
		bf->pages[i] = NULL;
	}
	mmap_read_unlock(current->mm);
	*ns = ktime_get_ns() - start;

	/* Only if the mapping went away under us is anything left. */
	spr_bench_raw_clear(bf, nr);
	return vma ? 0 : -ESRCH;
}

/* The floor of warm use (del) and of stop (add): the lru alone. */
static int spr_bench_floor_lru(struct spr_bench_file *bf, size_t nr,
			       bool add, u64 *ns)
{
	int nid = numa_node_id();
	u64 start = 0;
	size_t i;

	for (i = 0; i < nr; i++) {
		INIT_LIST_HEAD(&bf->items[i]);
		if (!add)
			list_lru_add(&spr_bench_lru, &bf->items[i], nid, NULL);
	}
	start = ktime_get_ns();
	for (i = 0; i < nr; i++) {
		if (add)
			list_lru_add(&spr_bench_lru, &bf->items[i], nid, NULL);
		else
			list_lru_del(&spr_bench_lru, &bf->items[i], nid, NULL);
	}
	*ns = ktime_get_ns() - start;
	for (i = 0; add && i < nr; i++)
		list_lru_del(&spr_bench_lru, &bf->items[i], nid, NULL);
	return 0;
}

/* Free the range's pages [0, nr) through the shrinker, untimed. */
static int spr_bench_reclaim_all(struct spr_bench_file *bf, size_t nr)
{
	spr_stop_using_range(&bf->range, 0, nr);
	/* Only a concurrent scan by the MM itself would take some. */
	spr_shrinker_scan(&spr_bench_shrinker, nr);
	return spr_shrinker_count(&spr_bench_shrinker) ? -EBUSY : 0;
}

static int spr_bench_use(struct spr_bench_file *bf, size_t nr, bool pagewise)
{
	size_t i;
	int ret;

	if (!pagewise)
		return spr_use_range(&bf->range, 0, nr);
	for (i = 0; i < nr; i++) {
		ret = spr_use_range(&bf->range, i, i + 1);
		if (ret)
			return ret;
	}
	return 0;
}

static unsigned long spr_bench_scan(size_t nr, bool pagewise)
{
	unsigned long freed = 0;
	size_t i;

	if (!pagewise)
		return spr_shrinker_scan(&spr_bench_shrinker, nr);
	for (i = 0; i < nr; i++)
		freed += spr_shrinker_scan(&spr_bench_shrinker, 1);
	return freed;
}

/* One round of a case on the range, which starts and ends all Free. */
static int spr_bench_range_round(struct spr_bench_file *bf, u32 op,
				 size_t nr, u64 *ns)
{
	bool pagewise = op == SPR_BENCH_COLD_USE_PAGEWISE ||
			op == SPR_BENCH_RECLAIM_PAGEWISE;
	u64 start;
	int ret;

	switch (op) {
	case SPR_BENCH_COLD_USE:
	case SPR_BENCH_COLD_USE_PAGEWISE:
		start = ktime_get_ns();
		ret = spr_bench_use(bf, nr, pagewise);
		*ns = ktime_get_ns() - start;
		break;
	case SPR_BENCH_WARM_USE:
		ret = spr_use_range(&bf->range, 0, nr);
		if (ret)
			break;
		spr_stop_using_range(&bf->range, 0, nr);
		start = ktime_get_ns();
		ret = spr_use_range(&bf->range, 0, nr);
		*ns = ktime_get_ns() - start;
		break;
	case SPR_BENCH_STOP:
		ret = spr_use_range(&bf->range, 0, nr);
		if (ret)
			break;
		start = ktime_get_ns();
		spr_stop_using_range(&bf->range, 0, nr);
		*ns = ktime_get_ns() - start;
		break;
	default:
		ret = spr_use_range(&bf->range, 0, nr);
		if (ret)
			break;
		spr_stop_using_range(&bf->range, 0, nr);
		start = ktime_get_ns();
		if (spr_bench_scan(nr, pagewise) != nr)
			ret = -EBUSY;
		*ns = ktime_get_ns() - start;
		break;
	}
	return spr_bench_reclaim_all(bf, nr) ?: ret;
}

static int spr_bench_round(struct spr_bench_file *bf, u32 op, size_t nr,
			   u64 *ns)
{
	switch (op) {
	case SPR_BENCH_FLOOR_INSERT:
	case SPR_BENCH_FLOOR_INSERT_BATCH:
		return spr_bench_floor_insert(bf, nr,
					      op == SPR_BENCH_FLOOR_INSERT_BATCH,
					      ns);
	case SPR_BENCH_FLOOR_LRU_DEL:
	case SPR_BENCH_FLOOR_LRU_ADD:
		return spr_bench_floor_lru(bf, nr, op == SPR_BENCH_FLOOR_LRU_ADD,
					   ns);
	case SPR_BENCH_FLOOR_ZAP:
	case SPR_BENCH_FLOOR_ZAP_BATCH:
		return spr_bench_floor_zap(bf, nr,
					   op == SPR_BENCH_FLOOR_ZAP_BATCH, ns);
	default:
		return spr_bench_range_round(bf, op, nr, ns);
	}
}

static int spr_bench_run(struct spr_bench_file *bf, struct spr_bench_case *bc)
{
	u64 warmup;
	u32 i;
	int ret;

	if (bc->op >= SPR_BENCH_NR_OPS || !bc->pages ||
	    bc->pages > SPR_BENCH_PAGES || !bc->rounds ||
	    bc->rounds > SPR_BENCH_MAX_ROUNDS)
		return -EINVAL;
	if (!READ_ONCE(bf->nr_pages) || !READ_ONCE(bf->raw_addr) ||
	    bc->pages > READ_ONCE(bf->nr_pages))
		return -ESRCH;
	ret = spr_bench_round(bf, bc->op, bc->pages, &warmup);
	for (i = 0; !ret && i < bc->rounds; i++) {
		ret = spr_bench_round(bf, bc->op, bc->pages, &bc->ns[i]);
		cond_resched();
	}
	return ret;
}

/* What ksize() says a kmalloc()ed or vmalloc()ed buffer takes. */
static size_t spr_bench_alloc_size(const void *p, size_t requested)
{
	return is_vmalloc_addr(p) ? PAGE_ALIGN(requested) : ksize(p);
}

static int spr_bench_mem(struct spr_bench_file *bf, struct spr_bench_mem *bm)
{
	struct shrinkable_page_range *range = &bf->range;
	size_t i;
	int ret;

	if (!READ_ONCE(bf->nr_pages))
		return -ESRCH;
	if (bm->resident > READ_ONCE(bf->nr_pages))
		return -EINVAL;
	ret = spr_use_range(range, 0, bm->resident);
	if (!ret) {
		spin_lock(range->lock);
		bm->nr_slots = range->nr_pages;
		bm->slot_bytes = spr_bench_alloc_size(range->pages,
						      range->nr_pages *
						      sizeof(*range->pages));
		bm->page_bytes = 0;
		for (i = 0; i < range->nr_pages; i++) {
			struct page *page = spr_slot_page(range->pages[i]);

			if (page)
				bm->page_bytes +=
					ksize((void *)page_private(page));
		}
		spin_unlock(range->lock);
		bm->range_bytes = sizeof(*range);
	}
	return spr_bench_reclaim_all(bf, bm->resident) ?: ret;
}

static long spr_bench_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct spr_bench_file *bf = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct spr_bench_case bc;
	struct spr_bench_mem bm;
	int ret;

	switch (cmd) {
	case SPR_BENCH_IOC_RUN:
		if (copy_from_user(&bc, uarg, sizeof(bc)))
			return -EFAULT;
		mutex_lock(&bf->lock);
		ret = spr_bench_run(bf, &bc);
		mutex_unlock(&bf->lock);
		if (!ret && copy_to_user(uarg, &bc, sizeof(bc)))
			ret = -EFAULT;
		return ret;
	case SPR_BENCH_IOC_MEM:
		if (copy_from_user(&bm, uarg, sizeof(bm)))
			return -EFAULT;
		mutex_lock(&bf->lock);
		ret = spr_bench_mem(bf, &bm);
		mutex_unlock(&bf->lock);
		if (!ret && copy_to_user(uarg, &bm, sizeof(bm)))
			ret = -EFAULT;
		return ret;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations spr_bench_fops = {
	.owner = THIS_MODULE,
	.open = spr_bench_open,
	.release = spr_bench_release,
	.mmap = spr_bench_mmap,
	.unlocked_ioctl = spr_bench_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice spr_bench_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "spr_bench",
	.fops = &spr_bench_fops,
	.mode = 0600,
};

static int __init spr_bench_init(void)
{
	int ret;

	ret = list_lru_init(&spr_bench_lru);
	if (ret)
		return ret;
	ret = spr_shrinker_register(&spr_bench_shrinker, "spr-bench");
	if (ret)
		goto err_lru;
	ret = misc_register(&spr_bench_dev);
	if (ret)
		goto err_shrinker;
	return 0;

err_shrinker:
	spr_shrinker_unregister(&spr_bench_shrinker);
err_lru:
	list_lru_destroy(&spr_bench_lru);
	return ret;
}
module_init(spr_bench_init);

static void __exit spr_bench_exit(void)
{
	misc_deregister(&spr_bench_dev);
	spr_shrinker_unregister(&spr_bench_shrinker);
	list_lru_destroy(&spr_bench_lru);
}
module_exit(spr_bench_exit);

MODULE_DESCRIPTION("Benchmark of shrinkable page ranges against their floor");
MODULE_LICENSE("GPL");
