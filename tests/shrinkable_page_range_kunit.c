// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for shrinkable page ranges.
 *
 * Each test case runs in a kthread that KUnit gives a private mm on its first
 * kunit_vm_mmap(). A small test driver, an anonymous-inode file with an mmap
 * handler, maps ranges into that mm the way binder does, so the tests can
 * check through the user mapping what the range claims about its pages.
 */

#include <kunit/test.h>
#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/prandom.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../internal.h"
#include "../shrinkable_page_range.h"

/* A test buffer mapped by the test driver. */
struct spr_test_range {
	struct kunit *test;
	struct spr_shrinker *shrinker;
	struct shrinkable_page_range range;
	struct file *file;
	const struct vm_operations_struct *vm_ops;
	unsigned long addr;
	size_t nr_pages;
	bool destroyed;
	struct completion released;
	spinlock_t driver_lock;	/* the range's lock, if it shares one */
};

static vm_fault_t spr_test_fault(struct vm_fault *vmf)
{
	/* A page that is not resident is never faulted in. */
	return VM_FAULT_SIGBUS;
}

static void spr_test_vma_close(struct vm_area_struct *vma)
{
	struct spr_test_range *tr = vma->vm_private_data;

	spr_vma_close(&tr->range);
}

static const struct vm_operations_struct spr_test_vm_ops = {
	.close = spr_test_vma_close,
	.fault = spr_test_fault,
};

/* A driver that forgets vm_ops->close: only the identity check protects. */
static const struct vm_operations_struct spr_test_vm_ops_no_close = {
	.fault = spr_test_fault,
};

static int spr_test_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct spr_test_range *tr = file->private_data;
	int ret;

	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	vm_flags_mod(vma, VM_DONTCOPY, VM_MAYWRITE);
	vma->vm_ops = tr->vm_ops;
	vma->vm_private_data = tr;
	ret = spr_register_vma(&tr->range, vma);
	if (ret < 0)
		return ret;
	tr->nr_pages = ret;
	return 0;
}

static void spr_test_range_destroy(struct spr_test_range *tr)
{
	if (!tr->destroyed)
		spr_destroy(&tr->range);
	tr->destroyed = true;
}

/*
 * As in a driver, the last reference to the file, which a vma holds too,
 * ends the range. The test thread's mm may still be exiting, and closing
 * its vmas, while KUnit cleans up on another CPU.
 */
static int spr_test_release(struct inode *inode, struct file *file)
{
	struct spr_test_range *tr = file->private_data;

	spr_test_range_destroy(tr);
	complete(&tr->released);
	return 0;
}

static const struct file_operations spr_test_fops = {
	.owner = THIS_MODULE,
	.mmap = spr_test_mmap,
	.release = spr_test_release,
};

static void spr_test_shrinker_release(void *data)
{
	spr_shrinker_unregister(data);
}

/* A shrinker for one test case, unregistered after its ranges are gone. */
static struct spr_shrinker *spr_test_shrinker(struct kunit *test)
{
	struct spr_shrinker *s;
	int ret;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, spr_shrinker_register(s, "spr-kunit"), 0);
	ret = kunit_add_action_or_reset(test, spr_test_shrinker_release, s);
	KUNIT_ASSERT_EQ(test, ret, 0);
	return s;
}

/* Drop the test's reference; the shrinker must outlive the range. */
static void spr_test_range_put(void *data)
{
	struct spr_test_range *tr = data;

	fput(tr->file);
	wait_for_completion(&tr->released);
	kfree(tr);
}

/*
 * A range on @s for current's mm, with its file but not yet mapped. With
 * @shared_lock, the range takes the test's driver_lock as its lock.
 */
static struct spr_test_range *
spr_test_range_init(struct kunit *test, struct spr_shrinker *s,
		    const struct vm_operations_struct *vm_ops, bool shared_lock)
{
	struct spr_test_range *tr;
	int ret;

	tr = kzalloc(sizeof(*tr), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tr);
	tr->test = test;
	tr->shrinker = s;
	tr->vm_ops = vm_ops;
	init_completion(&tr->released);
	spin_lock_init(&tr->driver_lock);
	if (shared_lock)
		ret = spr_init_shared_lock(&tr->range, s, &tr->driver_lock);
	else
		ret = spr_init(&tr->range, s);
	if (ret) {
		kfree(tr);
		KUNIT_FAIL_AND_ABORT(test, "spr_init: %d", ret);
	}
	tr->file = anon_inode_getfile("[spr-kunit]", &spr_test_fops, tr,
				      O_RDONLY);
	if (IS_ERR(tr->file)) {
		spr_destroy(&tr->range);
		kfree(tr);
		KUNIT_FAIL_AND_ABORT(test, "anon_inode_getfile: %ld",
				     PTR_ERR(tr->file));
	}
	ret = kunit_add_action_or_reset(test, spr_test_range_put, tr);
	KUNIT_ASSERT_EQ(test, ret, 0);
	return tr;
}

static struct spr_test_range *
spr_test_range_new(struct kunit *test, struct spr_shrinker *s,
		   const struct vm_operations_struct *vm_ops)
{
	return spr_test_range_init(test, s, vm_ops, false);
}

/* The test thread gets its mm from its first mapping. */
static void spr_test_attach_mm(struct kunit *test)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_FALSE(test, !addr || IS_ERR_VALUE(addr));
}

/* mmap @tr's file at @addr (0: anywhere); 0 or the mmap error. */
static long spr_test_try_map(struct spr_test_range *tr, unsigned long addr,
			     size_t nr_pages, unsigned long prot)
{
	unsigned long flags = MAP_SHARED | (addr ? MAP_FIXED : 0);
	unsigned long ret;

	ret = kunit_vm_mmap(tr->test, tr->file, addr, nr_pages << PAGE_SHIFT,
			    prot, flags, 0);
	if (IS_ERR_VALUE(ret))
		return (long)ret;
	if (!ret)
		return -ENOMEM;
	tr->addr = ret;
	return 0;
}

static struct spr_test_range *
spr_test_range_map(struct kunit *test, struct spr_shrinker *s,
		   size_t nr_pages, const struct vm_operations_struct *vm_ops)
{
	struct spr_test_range *tr;

	spr_test_attach_mm(test);
	tr = spr_test_range_new(test, s, vm_ops);
	KUNIT_ASSERT_EQ(test, spr_test_try_map(tr, 0, nr_pages, PROT_READ), 0);
	KUNIT_ASSERT_EQ(test, tr->nr_pages, nr_pages);
	return tr;
}

static unsigned long spr_test_uaddr(struct spr_test_range *tr, size_t index)
{
	return tr->addr + (index << PAGE_SHIFT);
}

/* Read @len bytes at user address @addr; false if they are not mapped. */
static bool spr_test_user_read(unsigned long addr, void *buf, size_t len)
{
	return !copy_from_user(buf, (const void __user *)addr, len);
}

/* Each page carries its tag in its first and last 8 bytes. */
static int spr_test_write_tag(struct spr_test_range *tr, size_t index, u64 tag)
{
	size_t base = index << PAGE_SHIFT;
	int ret;

	ret = spr_write(&tr->range, base, &tag, sizeof(tag));
	if (ret)
		return ret;
	return spr_write(&tr->range, base + PAGE_SIZE - sizeof(tag), &tag,
			 sizeof(tag));
}

/* Check what user space sees of page @index: mapped, and with @tag. */
static void spr_test_expect_user_tag(struct kunit *test,
				     struct spr_test_range *tr, size_t index,
				     u64 tag, const char *when)
{
	unsigned long addr = spr_test_uaddr(tr, index);
	u64 head, tail;

	KUNIT_ASSERT_TRUE_MSG(test, spr_test_user_read(addr, &head, 8) &&
			      spr_test_user_read(addr + PAGE_SIZE - 8, &tail, 8),
			      "page %zu not mapped at %#lx %s", index, addr,
			      when);
	KUNIT_ASSERT_EQ_MSG(test, head, tag, "page %zu head %s", index, when);
	KUNIT_ASSERT_EQ_MSG(test, tail, tag, "page %zu tail %s", index, when);
}

static void spr_test_expect_unmapped(struct kunit *test,
				     struct spr_test_range *tr, size_t index,
				     const char *when)
{
	u64 v;

	KUNIT_ASSERT_FALSE_MSG(test, spr_test_user_read(spr_test_uaddr(tr, index),
							&v, sizeof(v)),
			       "Free page %zu is mapped %s", index, when);
}

static void spr_test_expect_states(struct kunit *test,
				   struct spr_test_range *tr,
				   const enum spr_page_state *states,
				   size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, spr_page_state(&tr->range, i),
				    states[i], "page %zu", i);
}

/* ---- Exhaustive model check ------------------------------------------ */

#define MODEL_PAGES	3
#define MODEL_STEPS	4

enum model_op_kind { MODEL_USE, MODEL_STOP, MODEL_SCAN };

struct model_op {
	enum model_op_kind kind;
	size_t a, b;	/* [a, b) for use and stop, how many for scan */
};

struct spr_model {
	enum spr_page_state state[MODEL_PAGES];
	u64 tag[MODEL_PAGES];		/* 0: the page reads back zeroed */
	/* The lru, oldest first: Available pages, and In-use ones not dropped */
	size_t lru[MODEL_PAGES];
	size_t nr_lru;
	size_t nr_available;
	u64 next_tag;
};

static size_t model_ops(struct model_op *ops)
{
	size_t n = 0, a, b;

	for (a = 0; a < MODEL_PAGES; a++) {
		for (b = a + 1; b <= MODEL_PAGES; b++) {
			ops[n++] = (struct model_op){ MODEL_USE, a, b };
			ops[n++] = (struct model_op){ MODEL_STOP, a, b };
		}
	}
	ops[n++] = (struct model_op){ MODEL_SCAN, 1, 0 };
	ops[n++] = (struct model_op){ MODEL_SCAN, MODEL_PAGES, 0 };
	return n;
}

static bool model_on_lru(const struct spr_model *m, size_t index)
{
	size_t i;

	for (i = 0; i < m->nr_lru; i++)
		if (m->lru[i] == index)
			return true;
	return false;
}

/*
 * A scan looks at the oldest @nr entries of the lru and takes them all off:
 * it frees the Available pages and drops the In-use ones. Returns the
 * number freed.
 */
static size_t model_scan(struct spr_model *m, size_t nr)
{
	size_t i, freed = 0;

	nr = min(nr, m->nr_lru);
	for (i = 0; i < nr; i++) {
		size_t index = m->lru[i];

		if (m->state[index] != SPR_PAGE_AVAILABLE)
			continue;
		m->state[index] = SPR_PAGE_FREE;
		m->tag[index] = 0;
		freed++;
	}
	m->nr_lru -= nr;
	memmove(m->lru, m->lru + nr, m->nr_lru * sizeof(m->lru[0]));
	m->nr_available -= freed;
	return freed;
}

static int model_describe(char *buf, size_t len, const struct model_op *op)
{
	static const char * const names[] = { "use", "stop", "scan" };

	if (op->kind == MODEL_SCAN)
		return scnprintf(buf, len, " scan(%zu)", op->a);
	return scnprintf(buf, len, " %s[%zu,%zu)", names[op->kind], op->a,
			 op->b);
}

/* Apply @op to the range and to the model, checking what use returned. */
static void model_apply(struct kunit *test, struct spr_test_range *tr,
			struct spr_model *m, const struct model_op *op,
			const char *trace)
{
	size_t i, freed;

	switch (op->kind) {
	case MODEL_USE:
		KUNIT_ASSERT_EQ_MSG(test, spr_use_range(&tr->range, op->a, op->b),
				    0, "%s", trace);
		for (i = op->a; i < op->b; i++) {
			u64 old;

			/* A page taken back stays on the lru. */
			if (m->state[i] == SPR_PAGE_AVAILABLE)
				m->nr_available--;
			m->state[i] = SPR_PAGE_IN_USE;
			/* Reused pages keep their bytes, new ones are zero. */
			KUNIT_ASSERT_EQ_MSG(test, spr_read(&tr->range,
							   i << PAGE_SHIFT, &old,
							   sizeof(old)), 0,
					    "%s", trace);
			KUNIT_ASSERT_EQ_MSG(test, old, m->tag[i],
					    "page %zu content %s", i, trace);
			m->tag[i] = ++m->next_tag;
			KUNIT_ASSERT_EQ(test, spr_test_write_tag(tr, i, m->tag[i]),
					0);
		}
		break;
	case MODEL_STOP:
		spr_stop_using_range(&tr->range, op->a, op->b);
		for (i = op->b; i-- > op->a;) {
			if (m->state[i] != SPR_PAGE_IN_USE)
				continue;
			m->state[i] = SPR_PAGE_AVAILABLE;
			m->nr_available++;
			/* Still queued from an earlier stop: keeps its place. */
			if (!model_on_lru(m, i))
				m->lru[m->nr_lru++] = i;
		}
		break;
	case MODEL_SCAN:
		freed = spr_shrinker_scan(tr->shrinker, op->a);
		KUNIT_ASSERT_EQ_MSG(test, freed, model_scan(m, op->a), "%s",
				    trace);
		break;
	}
}

static void model_check(struct kunit *test, struct spr_test_range *tr,
			const struct spr_model *m, const char *trace)
{
	size_t i;

	KUNIT_ASSERT_EQ_MSG(test, spr_shrinker_count(tr->shrinker),
			    m->nr_available,
			    "%s", trace);
	for (i = 0; i < MODEL_PAGES; i++) {
		u64 v;
		int ret;

		KUNIT_ASSERT_EQ_MSG(test, spr_page_state(&tr->range, i),
				    m->state[i], "page %zu after%s", i, trace);
		ret = spr_read(&tr->range, i << PAGE_SHIFT, &v, sizeof(v));
		if (m->state[i] == SPR_PAGE_FREE) {
			spr_test_expect_unmapped(test, tr, i, trace);
			KUNIT_ASSERT_EQ_MSG(test, ret, -EFAULT, "%s", trace);
			continue;
		}
		/* Available pages stay mapped with their bytes until reclaim. */
		spr_test_expect_user_tag(test, tr, i, m->tag[i], trace);
		if (m->state[i] == SPR_PAGE_IN_USE) {
			KUNIT_ASSERT_EQ_MSG(test, ret, 0, "%s", trace);
			KUNIT_ASSERT_EQ_MSG(test, v, m->tag[i], "%s", trace);
		} else {
			KUNIT_ASSERT_EQ_MSG(test, ret, -EFAULT, "%s", trace);
		}
	}
}

/* Every sequence of MODEL_STEPS operations, each step checked. */
static void spr_test_model_exhaustive(struct kunit *test)
{
	struct model_op ops[MODEL_PAGES * (MODEL_PAGES + 1) + 2];
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct spr_test_range *tr;
	size_t nr_ops = model_ops(ops);
	unsigned long seq, nr_seqs = 1, steps = 0;
	struct spr_model m = {};
	char trace[256];
	int step;

	tr = spr_test_range_map(test, s, MODEL_PAGES, &spr_test_vm_ops);
	for (step = 0; step < MODEL_STEPS; step++)
		nr_seqs *= nr_ops;

	for (seq = 0; seq < nr_seqs; seq++) {
		unsigned long code = seq;
		size_t len = 0;

		/* Back to all Free, the model's initial state. */
		spr_stop_using_range(&tr->range, 0, MODEL_PAGES);
		spr_shrinker_scan(s, MODEL_PAGES);
		memset(&m, 0, offsetof(struct spr_model, next_tag));
		model_check(test, tr, &m, " reset");

		for (step = 0; step < MODEL_STEPS; step++) {
			const struct model_op *op = &ops[code % nr_ops];

			code /= nr_ops;
			len += model_describe(trace + len, sizeof(trace) - len,
					      op);
			model_apply(test, tr, &m, op, trace);
			model_check(test, tr, &m, trace);
			steps++;
		}
		cond_resched();
	}
	kunit_info(test, "model check: %lu sequences of %d operations over %d pages, %lu steps checked\n",
		   nr_seqs, MODEL_STEPS, MODEL_PAGES, steps);
}

/* ---- The data path --------------------------------------------------- */

#define DATA_PAGES	4

static void spr_test_data_across_pages(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	size_t offset = PAGE_SIZE - 100, size = 2 * PAGE_SIZE + 200, i;
	struct spr_test_range *tr;
	u8 *buf, *back, *user;
	unsigned long src;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops);
	buf = kunit_kmalloc(test, size, GFP_KERNEL);
	back = kunit_kmalloc(test, size, GFP_KERNEL);
	user = kunit_kmalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, back);
	KUNIT_ASSERT_NOT_NULL(test, user);
	for (i = 0; i < size; i++)
		buf[i] = i * 7 + 3;

	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, DATA_PAGES), 0);
	KUNIT_ASSERT_EQ(test, spr_write(&tr->range, offset, buf, size), 0);
	KUNIT_ASSERT_EQ(test, spr_read(&tr->range, offset, back, size), 0);
	KUNIT_EXPECT_MEMEQ(test, back, buf, size);
	/* User space sees the same bytes at the same offsets. */
	KUNIT_ASSERT_TRUE(test, spr_test_user_read(tr->addr + offset, user,
						   size));
	KUNIT_EXPECT_MEMEQ(test, user, buf, size);

	/* Zero a span that straddles two page boundaries. */
	KUNIT_ASSERT_EQ(test, spr_fill_zero(&tr->range, offset + 50,
					    PAGE_SIZE + 100), 0);
	memset(buf + 50, 0, PAGE_SIZE + 100);
	KUNIT_ASSERT_EQ(test, spr_read(&tr->range, offset, back, size), 0);
	KUNIT_EXPECT_MEMEQ(test, back, buf, size);

	/* copy_from_user from a real user buffer. */
	src = kunit_vm_mmap(test, NULL, 0, 3 * PAGE_SIZE,
			    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    0);
	KUNIT_ASSERT_FALSE(test, !src || IS_ERR_VALUE(src));
	for (i = 0; i < size; i++)
		buf[i] = i * 13 + 1;
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)src, buf, size), 0);
	KUNIT_ASSERT_EQ(test, spr_copy_from_user(&tr->range, offset,
						 (const void __user *)src,
						 size), 0);
	KUNIT_ASSERT_EQ(test, spr_read(&tr->range, offset, back, size), 0);
	KUNIT_EXPECT_MEMEQ(test, back, buf, size);
	KUNIT_ASSERT_TRUE(test, spr_test_user_read(tr->addr + offset, user,
						   size));
	KUNIT_EXPECT_MEMEQ(test, user, buf, size);

	/* Reclaimed and used again: the page reads back zeroed. */
	spr_stop_using_range(&tr->range, 0, DATA_PAGES);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, DATA_PAGES), DATA_PAGES);
	for (i = 0; i < DATA_PAGES; i++)
		spr_test_expect_unmapped(test, tr, i, "after reclaim");
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, DATA_PAGES), 0);
	KUNIT_ASSERT_EQ(test, spr_read(&tr->range, 0, back, size), 0);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(back, 0, size));
	KUNIT_ASSERT_TRUE(test, spr_test_user_read(tr->addr, user, size));
	KUNIT_EXPECT_TRUE(test, !memchr_inv(user, 0, size));
}

/* ---- debugfs ---------------------------------------------------------- */

/*
 * A shrinker registered by a built-in driver's initcall, such as binder's,
 * gets its directory under shrinkable_page_range/, not at the debugfs root:
 * our root must exist before any driver's initcall runs.
 */
static void spr_test_debugfs_builtin_user(struct kunit *test)
{
	struct dentry *root, *ours, *stray;

	if (!IS_BUILTIN(CONFIG_ANDROID_BINDER_IPC) ||
	    !IS_BUILTIN(CONFIG_SHRINKABLE_PAGE_RANGE))
		kunit_skip(test, "needs binder and the module built in");
	/* debugfs_lookup() takes one path component at a time. */
	root = debugfs_lookup("shrinkable_page_range", NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, root);
	ours = debugfs_lookup("android-binder", root);
	stray = debugfs_lookup("android-binder", NULL);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, ours);
	KUNIT_EXPECT_TRUE(test, IS_ERR_OR_NULL(stray));
	dput(stray);
	dput(ours);
	dput(root);
}

/* ---- Batches ---------------------------------------------------------- */

/* More than three batches of use and of reclaim, with a partial one. */
#define BATCH_PAGES	100

/*
 * Expect pages [@first, @in_use) In use and mapped, and [@in_use, @end) Free
 * and unmapped.
 */
static void spr_test_expect_prefix(struct kunit *test,
				   struct spr_test_range *tr, size_t first,
				   size_t in_use, size_t end, const char *when)
{
	size_t i;
	u64 v;

	for (i = first; i < end; i++) {
		bool used = i < in_use;

		KUNIT_EXPECT_EQ_MSG(test, spr_page_state(&tr->range, i),
				    used ? SPR_PAGE_IN_USE : SPR_PAGE_FREE,
				    "page %zu %s", i, when);
		KUNIT_EXPECT_EQ_MSG(test,
				    spr_test_user_read(spr_test_uaddr(tr, i),
						       &v, sizeof(v)), used,
				    "page %zu mapped %s", i, when);
	}
}

/*
 * Runs of Free pages are mapped in batches, around pages that are resident
 * already, and reclaim zaps contiguous runs: neither may lose a page, map
 * one twice, or zap across a hole in the vma.
 */
static void spr_test_batches(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct spr_test_range *tr;
	size_t i;

	tr = spr_test_range_map(test, s, BATCH_PAGES, &spr_test_vm_ops_no_close);
	/* Resident pages in the middle of batches: In use, and Available. */
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 30, 70), 0);
	for (i = 30; i < 70; i++)
		KUNIT_ASSERT_EQ(test, spr_test_write_tag(tr, i, 1000 + i), 0);
	spr_stop_using_range(&tr->range, 40, 60);

	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, BATCH_PAGES), 0);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 0);
	spr_test_expect_prefix(test, tr, 0, BATCH_PAGES, BATCH_PAGES,
			       "after a use across resident pages");
	for (i = 30; i < 70; i++)
		spr_test_expect_user_tag(test, tr, i, 1000 + i,
					 "kept across a batched use");
	for (i = 0; i < BATCH_PAGES; i++)
		KUNIT_ASSERT_EQ(test, spr_test_write_tag(tr, i, 2000 + i), 0);

	/* Reclaim in one scan, in pieces that do not end on a batch. */
	spr_stop_using_range(&tr->range, 0, BATCH_PAGES);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 45), 45);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), BATCH_PAGES - 45);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 2 * BATCH_PAGES),
			BATCH_PAGES - 45);
	spr_test_expect_prefix(test, tr, 0, 0, BATCH_PAGES,
			       "after a batched reclaim");

	/*
	 * A hole in the vma inside a run of resident pages: the zap of the
	 * run must stop at the hole and go on in the second part.
	 */
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, BATCH_PAGES), 0);
	spr_stop_using_range(&tr->range, 0, BATCH_PAGES);
	KUNIT_ASSERT_EQ(test, vm_munmap(spr_test_uaddr(tr, 50), PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, BATCH_PAGES), BATCH_PAGES);
	spr_test_expect_prefix(test, tr, 0, 0, BATCH_PAGES,
			       "after reclaim across a hole");

	/* A use across the hole maps up to it, then fails, in order. */
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 45, 55), -ESRCH);
	spr_test_expect_prefix(test, tr, 45, 50, 55, "after a use into a hole");
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 51, BATCH_PAGES), 0);
	spr_test_expect_prefix(test, tr, 51, BATCH_PAGES, BATCH_PAGES,
			       "in the part after the hole");
}

/* ---- Error codes ----------------------------------------------------- */

static void spr_test_errors_bounds(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	static const enum spr_page_state in_use[DATA_PAGES] = {
		SPR_PAGE_IN_USE, SPR_PAGE_IN_USE, SPR_PAGE_FREE, SPR_PAGE_FREE,
	};
	size_t end = DATA_PAGES << PAGE_SHIFT;
	const void __user *free_page_uaddr;
	u32 tail = 0x5a5aa5a5, got = 0;
	u64 ones = U64_MAX;
	struct spr_test_range *tr;
	u8 byte = 0;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 0, DATA_PAGES + 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, SIZE_MAX - 1, SIZE_MAX),
			-EINVAL);
	/* start >= end is an empty range, not an error. */
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 3, 3), 0);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, SIZE_MAX, 0), 0);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, 2), 0);
	spr_test_expect_states(test, tr, in_use, DATA_PAGES);
	/* Pages that are In use already stay so; the bounds still hold. */
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 0, 2), 0);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 1, DATA_PAGES + 1),
			-EINVAL);
	spr_test_expect_states(test, tr, in_use, DATA_PAGES);

	/* Past the end, overflowing, and touching a Free page. */
	KUNIT_EXPECT_EQ(test, spr_read(&tr->range, end, &byte, 1), -EFAULT);
	KUNIT_EXPECT_EQ(test, spr_write(&tr->range, end - 1, &byte, 2), -EFAULT);
	KUNIT_EXPECT_EQ(test, spr_fill_zero(&tr->range, SIZE_MAX, 2), -EFAULT);
	KUNIT_EXPECT_EQ(test, spr_fill_zero(&tr->range, 1, SIZE_MAX), -EFAULT);
	KUNIT_EXPECT_EQ(test, spr_read(&tr->range, 2 * PAGE_SIZE - 1, &byte, 2),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, spr_write(&tr->range, 3 * PAGE_SIZE, &byte, 1),
			-EFAULT);
	/* An Available page is resident but not the caller's to touch. */
	spr_stop_using_range(&tr->range, 1, 2);
	KUNIT_EXPECT_EQ(test, spr_read(&tr->range, PAGE_SIZE, &byte, 1),
			-EFAULT);
	/* A copy that runs into it fails whole, not after the first page. */
	KUNIT_ASSERT_EQ(test, spr_write(&tr->range, PAGE_SIZE - 4, &tail, 4),
			0);
	KUNIT_EXPECT_EQ(test, spr_write(&tr->range, PAGE_SIZE - 4, &ones, 8),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, spr_fill_zero(&tr->range, PAGE_SIZE - 4, 8),
			-EFAULT);
	KUNIT_ASSERT_EQ(test, spr_read(&tr->range, PAGE_SIZE - 4, &got, 4), 0);
	KUNIT_EXPECT_EQ(test, got, tail);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 1, 2), 0);
	KUNIT_EXPECT_EQ(test, spr_read(&tr->range, PAGE_SIZE, &byte, 1), 0);
	/* A size of zero touches nothing. */
	KUNIT_EXPECT_EQ(test, spr_read(&tr->range, SIZE_MAX, &byte, 0), 0);

	/* A faulting user pointer leaves the range's bytes alone. */
	KUNIT_ASSERT_EQ(test, spr_test_write_tag(tr, 0, 0x5a5a), 0);
	KUNIT_EXPECT_EQ(test, spr_copy_from_user(&tr->range, 0, NULL, 8),
			-EFAULT);
	spr_test_expect_user_tag(test, tr, 0, 0x5a5a, "after a faulting copy");
	free_page_uaddr = (const void __user *)spr_test_uaddr(tr, 2);
	KUNIT_EXPECT_EQ(test, spr_copy_from_user(&tr->range, 0,
						 free_page_uaddr, 8), -EFAULT);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, DATA_PAGES),
			SPR_PAGE_FREE);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, SIZE_MAX),
			SPR_PAGE_FREE);
	spr_test_expect_states(test, tr, in_use, DATA_PAGES);
}

/* Marker that the log checker looks for before it accepts this WARN. */
#define SPR_EXPECTED_WARN "spr-kunit: expecting one WARN_ON_ONCE from spr_stop_using_range\n"

static void spr_test_stop_out_of_bounds(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	static const enum spr_page_state in_use[DATA_PAGES] = {
		SPR_PAGE_IN_USE, SPR_PAGE_IN_USE, SPR_PAGE_IN_USE,
		SPR_PAGE_IN_USE,
	};
	struct spr_test_range *tr;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, DATA_PAGES), 0);
	pr_warn(SPR_EXPECTED_WARN);
	spr_stop_using_range(&tr->range, 0, DATA_PAGES + 1);
	/* The caller's bug changes nothing. */
	spr_test_expect_states(test, tr, in_use, DATA_PAGES);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 0);
	spr_stop_using_range(&tr->range, 2, SIZE_MAX);
	spr_test_expect_states(test, tr, in_use, DATA_PAGES);
}

static void spr_test_init_without_mm(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct shrinkable_page_range range;

	/* A KUnit thread has no mm until its first kunit_vm_mmap(). */
	KUNIT_ASSERT_NULL(test, current->mm);
	KUNIT_EXPECT_EQ(test, spr_init(&range, s), -ESRCH);
}

static void spr_test_register_errors(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct vm_area_struct empty = {};
	struct spr_test_range *tr;
	unsigned long addr;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops);

	/* A second mapping of the same range. */
	KUNIT_EXPECT_EQ(test, spr_test_try_map(tr, 0, 2, PROT_READ), -EBUSY);

	/* A vma of no size. */
	empty.vm_mm = current->mm;
	empty.vm_start = tr->addr;
	empty.vm_end = tr->addr;
	KUNIT_EXPECT_EQ(test, spr_register_vma(&tr->range, &empty), -EINVAL);

	/* More than 4 MiB is capped. */
	tr = spr_test_range_new(test, s, &spr_test_vm_ops);
	addr = SPR_MAX_BYTES / PAGE_SIZE + 16;
	KUNIT_ASSERT_EQ(test, spr_test_try_map(tr, 0, addr, PROT_READ), 0);
	KUNIT_EXPECT_EQ(test, tr->nr_pages, SPR_MAX_BYTES / PAGE_SIZE);
}

struct spr_test_foreign {
	struct spr_test_range *tr;
	long ret;
};

/* Map @tr from a kthread that has an mm of its own. */
static int spr_test_foreign_map_fn(void *data)
{
	struct spr_test_foreign *f = data;

	f->ret = spr_test_try_map(f->tr, 0, 2, PROT_READ);
	return 0;
}

static void spr_test_register_foreign_mm(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct spr_test_foreign f = {};
	struct task_struct *task;

	spr_test_attach_mm(test);
	f.tr = spr_test_range_new(test, s, &spr_test_vm_ops);
	f.ret = 1;
	task = kthread_run(spr_test_foreign_map_fn, &f, "spr-kunit-foreign");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	while (READ_ONCE(f.ret) == 1)
		usleep_range(1000, 2000);
	KUNIT_EXPECT_EQ(test, f.ret, -EINVAL);
	KUNIT_EXPECT_EQ(test, f.tr->nr_pages, 0);
}

/* Fault injection, confined to this task with fail_nth. */

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS

/* The variable behind the debugfs file @dir/@name. */
static void *spr_test_fault_knob(struct kunit *test, const char *dir,
				 const char *name)
{
	struct dentry *parent, *d;
	void *knob;

	parent = debugfs_lookup(dir, NULL);
	if (IS_ERR_OR_NULL(parent))
		kunit_skip(test, "no debugfs directory %s", dir);
	d = debugfs_lookup(name, parent);
	dput(parent);
	if (IS_ERR_OR_NULL(d))
		kunit_skip(test, "no debugfs file %s/%s", dir, name);
	knob = d_inode(d)->i_private;
	dput(d);
	return knob;
}

struct spr_test_faults {
	bool *slab_ignore_reclaim;
	bool *page_ignore_reclaim;
	bool *page_ignore_highmem;
	u32 *page_min_order;
	unsigned long *slab_verbose;
	unsigned long *page_verbose;
	bool saved[3];
	u32 saved_order;
	unsigned long saved_verbose[2];
};

static void spr_test_faults_restore(void *data)
{
	struct spr_test_faults *f = data;

	current->fail_nth = 0;
	*f->slab_ignore_reclaim = f->saved[0];
	*f->page_ignore_reclaim = f->saved[1];
	*f->page_ignore_highmem = f->saved[2];
	*f->page_min_order = f->saved_order;
	*f->slab_verbose = f->saved_verbose[0];
	*f->page_verbose = f->saved_verbose[1];
}

/*
 * Let failslab and fail_page_alloc fail GFP_KERNEL | __GFP_HIGHMEM order-0
 * allocations; which one fails is chosen per task with current->fail_nth.
 */
static void spr_test_faults_arm(struct kunit *test)
{
	struct spr_test_faults *f;
	int ret;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	f->slab_ignore_reclaim = spr_test_fault_knob(test, "failslab",
						     "ignore-gfp-wait");
	f->page_ignore_reclaim = spr_test_fault_knob(test, "fail_page_alloc",
						     "ignore-gfp-wait");
	f->page_ignore_highmem = spr_test_fault_knob(test, "fail_page_alloc",
						     "ignore-gfp-highmem");
	f->page_min_order = spr_test_fault_knob(test, "fail_page_alloc",
						"min-order");
	f->slab_verbose = spr_test_fault_knob(test, "failslab", "verbose");
	f->page_verbose = spr_test_fault_knob(test, "fail_page_alloc",
					      "verbose");
	f->saved[0] = *f->slab_ignore_reclaim;
	f->saved[1] = *f->page_ignore_reclaim;
	f->saved[2] = *f->page_ignore_highmem;
	f->saved_order = *f->page_min_order;
	f->saved_verbose[0] = *f->slab_verbose;
	f->saved_verbose[1] = *f->page_verbose;
	/* One line per injected failure, no stack dump. */
	*f->slab_verbose = 1;
	*f->page_verbose = 1;
	*f->slab_ignore_reclaim = false;
	*f->page_ignore_reclaim = false;
	*f->page_ignore_highmem = false;
	*f->page_min_order = 0;
	ret = kunit_add_action_or_reset(test, spr_test_faults_restore, f);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

static void spr_test_enomem(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	static const enum spr_page_state one_used[DATA_PAGES] = {
		SPR_PAGE_IN_USE, SPR_PAGE_FREE, SPR_PAGE_FREE, SPR_PAGE_FREE,
	};
	static const enum spr_page_state all_used[DATA_PAGES] = {
		SPR_PAGE_IN_USE, SPR_PAGE_IN_USE, SPR_PAGE_IN_USE,
		SPR_PAGE_IN_USE,
	};
	struct vm_area_struct vma = {};
	struct spr_test_range *tr, *tr2;
	unsigned int nth, failures = 0;
	int ret;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, 1), 0);
	spr_test_faults_arm(test);

	/* The first allocation of spr_use_range(): the page itself. */
	current->fail_nth = 1;
	ret = spr_use_range(&tr->range, 1, 2);
	current->fail_nth = 0;
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->alloc_failed), 1);
	spr_test_expect_states(test, tr, one_used, DATA_PAGES);
	spr_test_expect_unmapped(test, tr, 1, "after -ENOMEM");
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 1, 2), 0);

	/*
	 * Fail each allocation of spr_use_range() in turn, the page, its
	 * metadata and whatever vm_insert_page() needs, until a call runs
	 * with nothing left to fail. A failure that a fallback absorbs may
	 * still succeed.
	 */
	failures = 0;
	for (nth = 1; nth < 256; nth++) {
		bool injected;

		current->fail_nth = nth;
		ret = spr_use_range(&tr->range, 2, 3);
		injected = !current->fail_nth;
		current->fail_nth = 0;
		if (!injected)
			break;
		KUNIT_EXPECT_TRUE_MSG(test, !ret || ret == -ENOMEM,
				      "fail_nth=%u: %d", nth, ret);
		KUNIT_EXPECT_EQ_MSG(test, spr_page_state(&tr->range, 2),
				    ret ? SPR_PAGE_FREE : SPR_PAGE_IN_USE,
				    "fail_nth=%u", nth);
		if (ret) {
			failures++;
			continue;
		}
		spr_stop_using_range(&tr->range, 2, 3);
		KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 1), 1);
	}
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_GE(test, failures, 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->alloc_failed), 3);
	kunit_info(test, "spr_use_range: %u of %u injected allocation failures returned -ENOMEM\n",
		   failures, nth - 1);

	/* The slot array of spr_register_vma(), called as an mmap handler. */
	tr2 = spr_test_range_new(test, s, &spr_test_vm_ops);
	vma.vm_mm = current->mm;
	vma.vm_start = tr->addr;
	vma.vm_end = tr->addr + 2 * PAGE_SIZE;
	mmap_write_lock(current->mm);
	current->fail_nth = 1;
	ret = spr_register_vma(&tr2->range, &vma);
	current->fail_nth = 0;
	mmap_write_unlock(current->mm);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	KUNIT_EXPECT_EQ(test, tr2->range.nr_pages, 0);
	KUNIT_EXPECT_FALSE(test, vma.vm_flags & VM_MIXEDMAP);
	KUNIT_EXPECT_EQ(test, spr_test_try_map(tr2, 0, 2, PROT_READ), 0);

	/*
	 * The same for a whole mmap of the test driver: whichever allocation
	 * fails, before or after the mmap handler (the core then closes the
	 * vma again), the range is left unregistered or closed.
	 */
	for (nth = 1; nth < 256; nth++) {
		bool injected;

		tr2 = spr_test_range_new(test, s, &spr_test_vm_ops);
		current->fail_nth = nth;
		ret = spr_test_try_map(tr2, 0, 2, PROT_READ);
		injected = !current->fail_nth;
		current->fail_nth = 0;
		if (!injected)
			break;
		if (!ret)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "fail_nth=%u", nth);
		KUNIT_EXPECT_TRUE_MSG(test, !tr2->nr_pages ||
				      READ_ONCE(tr2->range.vma_closed),
				      "fail_nth=%u", nth);
		ret = spr_use_range(&tr2->range, 0, 1);
		KUNIT_EXPECT_TRUE_MSG(test, ret == -EINVAL || ret == -ESRCH,
				      "fail_nth=%u: %d", nth, ret);
	}
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, tr2->nr_pages, 2);
	kunit_info(test, "mmap: survived %u injected allocation failures\n",
		   nth - 1);

	/* Once injection stops, everything works again. */
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 0, DATA_PAGES), 0);
	spr_test_expect_states(test, tr, all_used, DATA_PAGES);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr2->range, 0, 2), 0);
}

/*
 * An allocation that fails inside a batch: the pages before it are In use
 * and mapped, it and the Free pages after it stay Free and unmapped, and the
 * Available pages after it stay Available.
 */
static void spr_test_batch_enomem(struct kunit *test)
{
	const size_t avail = BATCH_PAGES / 2;
	struct spr_shrinker *s = spr_test_shrinker(test);
	unsigned int nth, failures = 0;
	struct spr_test_range *tr;
	size_t in_use, i;
	int ret;

	tr = spr_test_range_map(test, s, BATCH_PAGES, &spr_test_vm_ops);
	/* Page tables for the whole range, so only our allocations fail. */
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, BATCH_PAGES), 0);
	spr_stop_using_range(&tr->range, 0, avail);
	KUNIT_ASSERT_EQ(test, spr_shrinker_scan(s, BATCH_PAGES), avail);
	spr_stop_using_range(&tr->range, avail, BATCH_PAGES);
	spr_test_faults_arm(test);

	/* Each round: [0, avail) Free, [avail, BATCH_PAGES) Available. */
	for (nth = 1; nth < 4 * BATCH_PAGES; nth += 3) {
		bool injected;

		current->fail_nth = nth;
		ret = spr_use_range(&tr->range, 0, BATCH_PAGES);
		injected = !current->fail_nth;
		current->fail_nth = 0;
		if (!injected)
			break;
		for (in_use = 0; in_use < avail; in_use++)
			if (spr_page_state(&tr->range, in_use) != SPR_PAGE_IN_USE)
				break;
		/* A debug allocation (debugobjects, say) may absorb it. */
		KUNIT_EXPECT_TRUE_MSG(test, ret == -ENOMEM ||
				      (!ret && in_use == avail),
				      "fail_nth=%u: %d, %zu pages In use", nth,
				      ret, in_use);
		spr_test_expect_prefix(test, tr, 0, in_use, avail,
				       "after an injected failure in a batch");
		for (i = avail; i < BATCH_PAGES; i++)
			KUNIT_EXPECT_EQ_MSG(test, spr_page_state(&tr->range, i),
					    ret ? SPR_PAGE_AVAILABLE :
						  SPR_PAGE_IN_USE,
					    "page %zu, fail_nth=%u: %d", i, nth,
					    ret);
		failures += !!ret;
		/* Back to the round's starting states, without injection. */
		spr_stop_using_range(&tr->range, 0, BATCH_PAGES);
		KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 2 * BATCH_PAGES),
				in_use + BATCH_PAGES - avail);
		KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, avail,
						    BATCH_PAGES), 0);
		spr_stop_using_range(&tr->range, avail, BATCH_PAGES);
	}
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_GE(test, failures, avail / 4);
	spr_test_expect_prefix(test, tr, 0, BATCH_PAGES, BATCH_PAGES,
			       "once injection stops");
}

#else

static void spr_test_enomem(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION_DEBUG_FS");
}

static void spr_test_batch_enomem(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION_DEBUG_FS");
}

#endif

/* ---- vmas that go away ----------------------------------------------- */

static void spr_test_vma_closed(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct spr_test_range *tr;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, 3), 0);
	spr_stop_using_range(&tr->range, 1, 3);
	KUNIT_ASSERT_EQ(test, vm_munmap(tr->addr, DATA_PAGES << PAGE_SHIFT), 0);

	KUNIT_EXPECT_TRUE(test, READ_ONCE(tr->range.vma_closed));
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 0, 1), -ESRCH);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 3, 4), -ESRCH);
	/* Resident pages are still the driver's, and still reclaimable. */
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_IN_USE);
	KUNIT_EXPECT_EQ(test, spr_write(&tr->range, 0, "x", 1), 0);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 8), 2);
	spr_stop_using_range(&tr->range, 0, DATA_PAGES);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 8), 1);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 0);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_FREE);
}

/*
 * The range's vma is unmapped by a driver without vm_ops->close, and an
 * anonymous writable mapping takes its address. Nothing of the range may be
 * inserted into it, and the shrinker may not zap its pages.
 */
static void spr_test_vma_replaced_by_anon(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	size_t len = DATA_PAGES << PAGE_SHIFT, i;
	struct spr_test_range *tr;
	unsigned long addr;
	u64 v;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops_no_close);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, 2), 0);
	spr_stop_using_range(&tr->range, 0, 2);
	KUNIT_ASSERT_EQ(test, vm_munmap(tr->addr, len), 0);
	KUNIT_ASSERT_FALSE(test, READ_ONCE(tr->range.vma_closed));

	addr = kunit_vm_mmap(test, NULL, tr->addr, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0);
	KUNIT_ASSERT_EQ(test, addr, tr->addr);
	for (i = 0; i < DATA_PAGES; i++) {
		v = 0xa5a5a5a5a5a5a5a5ULL + i;
		KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)spr_test_uaddr(tr, i),
						   &v, sizeof(v)), 0);
	}

	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 2, 3), -ESRCH);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 2), SPR_PAGE_FREE);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 8), 2);
	for (i = 0; i < DATA_PAGES; i++) {
		KUNIT_ASSERT_TRUE(test, spr_test_user_read(spr_test_uaddr(tr, i),
							   &v, sizeof(v)));
		KUNIT_EXPECT_EQ_MSG(test, v, 0xa5a5a5a5a5a5a5a5ULL + i,
				    "anonymous page %zu was touched", i);
	}
}

/*
 * Another range of the same driver is mapped where the first one was: same
 * vm_ops, VM_MIXEDMAP, only vm_private_data tells them apart.
 */
static void spr_test_vma_replaced_by_other_range(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	size_t len = DATA_PAGES << PAGE_SHIFT, i;
	struct spr_test_range *old, *new;

	old = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops_no_close);
	KUNIT_ASSERT_EQ(test, spr_use_range(&old->range, 0, DATA_PAGES), 0);
	spr_stop_using_range(&old->range, 0, DATA_PAGES);
	KUNIT_ASSERT_EQ(test, vm_munmap(old->addr, len), 0);

	new = spr_test_range_new(test, s, &spr_test_vm_ops_no_close);
	KUNIT_ASSERT_EQ(test, spr_test_try_map(new, old->addr, DATA_PAGES,
					       PROT_READ), 0);
	KUNIT_ASSERT_EQ(test, new->addr, old->addr);
	KUNIT_ASSERT_EQ(test, spr_use_range(&new->range, 0, DATA_PAGES), 0);
	for (i = 0; i < DATA_PAGES; i++)
		KUNIT_ASSERT_EQ(test, spr_test_write_tag(new, i, 100 + i), 0);

	/* Reclaim the old range's pages, then try to insert through it. */
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 2 * DATA_PAGES), DATA_PAGES);
	KUNIT_EXPECT_EQ(test, spr_use_range(&old->range, 0, 1), -ESRCH);
	for (i = 0; i < DATA_PAGES; i++)
		spr_test_expect_user_tag(test, new, i, 100 + i,
					 "after the old range was reclaimed");
}

/* A partial munmap splits the vma; the part that is left keeps working. */
static void spr_test_vma_split(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct spr_test_range *tr;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops_no_close);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, DATA_PAGES), 0);
	KUNIT_ASSERT_EQ(test, spr_test_write_tag(tr, 3, 33), 0);
	spr_stop_using_range(&tr->range, 0, DATA_PAGES);
	/* Unmap page 1: pages 2 and 3 now live in a vma of their own. */
	KUNIT_ASSERT_EQ(test, vm_munmap(spr_test_uaddr(tr, 1), PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, DATA_PAGES), DATA_PAGES);
	spr_test_expect_unmapped(test, tr, 0, "after reclaim of a split vma");
	spr_test_expect_unmapped(test, tr, 3, "after reclaim of a split vma");

	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 1, 2), -ESRCH);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 3, 4), 0);
	KUNIT_EXPECT_EQ(test, spr_test_write_tag(tr, 3, 34), 0);
	spr_test_expect_user_tag(test, tr, 3, 34, "in the second half");
}

/*
 * A range on its caller's lock: under that lock, the _locked calls take
 * pages back and give them to the shrinker as use and stop do.
 */
static void spr_test_shared_lock(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct shrinkable_page_range unused;
	struct spr_test_range *tr;
	u64 tag;

	KUNIT_EXPECT_EQ(test, spr_init_shared_lock(&unused, s, NULL), -EINVAL);
	spr_test_attach_mm(test);
	tr = spr_test_range_init(test, s, &spr_test_vm_ops, true);
	KUNIT_ASSERT_EQ(test, spr_test_try_map(tr, 0, DATA_PAGES, PROT_READ), 0);
	KUNIT_EXPECT_PTR_EQ(test, tr->range.lock, &tr->driver_lock);

	/* Free pages are left to spr_use_range(), called without the lock. */
	spin_lock(&tr->driver_lock);
	KUNIT_EXPECT_EQ(test, spr_use_resident_locked(&tr->range, 0, 3), 0);
	spin_unlock(&tr->driver_lock);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_FREE);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, 3), 0);
	KUNIT_ASSERT_EQ(test, spr_test_write_tag(tr, 1, 21), 0);

	spin_lock(&tr->driver_lock);
	spr_stop_using_range_locked(&tr->range, 0, 2);
	spin_unlock(&tr->driver_lock);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 2);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 1), SPR_PAGE_AVAILABLE);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 2), SPR_PAGE_IN_USE);

	/* Past the end nothing changes; in range, the page and its bytes. */
	spin_lock(&tr->driver_lock);
	KUNIT_EXPECT_EQ(test, spr_use_resident_locked(&tr->range, 0,
						      DATA_PAGES + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, spr_use_resident_locked(&tr->range, 1, 3), 0);
	spin_unlock(&tr->driver_lock);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_AVAILABLE);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 1), SPR_PAGE_IN_USE);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 1);
	KUNIT_EXPECT_EQ(test, spr_read(&tr->range, PAGE_SIZE, &tag, sizeof(tag)),
			0);
	KUNIT_EXPECT_EQ(test, tag, 21);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 1, 3), 0);

	/* The shrinker trylocks the caller's lock like the range's own. */
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, DATA_PAGES), 1);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_FREE);
	spr_test_expect_unmapped(test, tr, 0, "after reclaim");
	spr_test_expect_user_tag(test, tr, 1, 21, "In use through reclaim");
}

/* ---- Shrinker, mm exit and teardown ---------------------------------- */

/*
 * A page taken back stays on the lru: stopping it again does not queue it
 * twice, and a scan drops its entry without freeing it.
 */
static void spr_test_reuse_stays_queued(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct spr_test_range *tr;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, 2), 0);
	KUNIT_ASSERT_EQ(test, spr_test_write_tag(tr, 0, 10), 0);
	KUNIT_ASSERT_EQ(test, spr_test_write_tag(tr, 1, 11), 0);
	spr_stop_using_range(&tr->range, 0, 2);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 2);
	KUNIT_EXPECT_EQ(test, list_lru_count(&s->lru), 2);

	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, 1), 0);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_IN_USE);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 1);
	KUNIT_EXPECT_EQ(test, list_lru_count(&s->lru), 2);
	spr_stop_using_range(&tr->range, 0, 1);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 2);
	KUNIT_EXPECT_EQ(test, list_lru_count(&s->lru), 2);

	/* Both entries looked at: page 1 is freed, page 0's entry dropped. */
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, 1), 0);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 2), 1);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 0);
	KUNIT_EXPECT_EQ(test, list_lru_count(&s->lru), 0);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_IN_USE);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 1), SPR_PAGE_FREE);
	spr_test_expect_user_tag(test, tr, 0, 10, "after its entry was dropped");
	spr_test_expect_unmapped(test, tr, 1, "after reclaim");

	/* Dropped, it is queued again on the next stop. */
	spr_stop_using_range(&tr->range, 0, 1);
	KUNIT_EXPECT_EQ(test, list_lru_count(&s->lru), 1);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 1), 1);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_FREE);
	spr_test_expect_unmapped(test, tr, 0, "after reclaim");
}

static void spr_test_two_ranges(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct spr_test_range *a, *b;
	size_t i;

	a = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops);
	b = spr_test_range_map(test, s, 2 * DATA_PAGES, &spr_test_vm_ops);
	KUNIT_ASSERT_EQ(test, spr_use_range(&a->range, 0, DATA_PAGES), 0);
	KUNIT_ASSERT_EQ(test, spr_use_range(&b->range, 0, 2 * DATA_PAGES), 0);
	spr_stop_using_range(&a->range, 0, 2);
	spr_stop_using_range(&b->range, 4, 8);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 6);

	/* Taking one range's page back leaves the other's alone. */
	KUNIT_ASSERT_EQ(test, spr_use_range(&b->range, 4, 5), 0);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 5);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 100), 5);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 0);
	for (i = 0; i < 2; i++)
		spr_test_expect_unmapped(test, a, i, "range a");
	for (i = 5; i < 8; i++)
		spr_test_expect_unmapped(test, b, i, "range b");
	KUNIT_EXPECT_EQ(test, spr_page_state(&a->range, 2), SPR_PAGE_IN_USE);
	KUNIT_EXPECT_EQ(test, spr_page_state(&b->range, 4), SPR_PAGE_IN_USE);
}

static void spr_test_destroy_all_states(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct page *pages[DATA_PAGES];
	struct spr_range_stats st;
	struct spr_test_range *tr;
	size_t i;

	tr = spr_test_range_map(test, s, DATA_PAGES, &spr_test_vm_ops);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 0, 3), 0);
	/* Page 2 is In use again, and still on the lru. */
	spr_stop_using_range(&tr->range, 1, 3);
	KUNIT_ASSERT_EQ(test, spr_use_range(&tr->range, 2, 3), 0);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_IN_USE);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 1), SPR_PAGE_AVAILABLE);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 2), SPR_PAGE_IN_USE);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 3), SPR_PAGE_FREE);
	KUNIT_EXPECT_EQ(test, list_lru_count(&s->lru), 2);
	spr_range_stats(&tr->range, &st);
	KUNIT_EXPECT_EQ(test, st.nr_pages, DATA_PAGES);
	KUNIT_EXPECT_EQ(test, st.free, 1);
	KUNIT_EXPECT_EQ(test, st.available, 1);
	KUNIT_EXPECT_EQ(test, st.in_use, 2);
	KUNIT_ASSERT_EQ(test, vm_munmap(tr->addr, DATA_PAGES << PAGE_SHIFT), 0);

	/* Hold references of our own, to see what destroy drops. */
	for (i = 0; i < 3; i++) {
		pages[i] = spr_slot_page(tr->range.pages[i]);
		get_page(pages[i]);
		KUNIT_EXPECT_EQ(test, page_count(pages[i]), 2);
	}
	spr_test_range_destroy(tr);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 0);
	KUNIT_EXPECT_EQ(test, list_lru_count(&s->lru), 0);
	KUNIT_EXPECT_NULL(test, tr->range.pages);
	KUNIT_EXPECT_NULL(test, tr->range.mm);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ_MSG(test, page_count(pages[i]), 1, "page %zu", i);
		KUNIT_EXPECT_EQ(test, page_private(pages[i]), 0);
		put_page(pages[i]);
	}
}

struct spr_test_exiting {
	struct spr_test_range *tr;
	struct completion mapped;
	int ret;
};

/* Map and use pages from a thread whose mm dies when it returns. */
static int spr_test_exiting_fn(void *data)
{
	struct spr_test_exiting *e = data;
	struct spr_test_range *tr = e->tr;
	unsigned long addr;

	/* kunit_vm_mmap() gives this thread an mm of its own. */
	addr = kunit_vm_mmap(tr->test, NULL, 0, PAGE_SIZE, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	e->ret = !addr || IS_ERR_VALUE(addr) ? -ENOMEM : 0;
	if (!e->ret)
		e->ret = spr_init(&tr->range, tr->shrinker);
	if (!e->ret)
		tr->destroyed = false;
	if (!e->ret)
		e->ret = spr_test_try_map(tr, 0, DATA_PAGES, PROT_READ);
	if (!e->ret)
		e->ret = spr_use_range(&tr->range, 0, DATA_PAGES);
	if (!e->ret)
		spr_stop_using_range(&tr->range, 1, DATA_PAGES);
	complete(&e->mapped);
	return 0;
}

/* Pages of an exited mm are reclaimed, not counted forever. */
static void spr_test_mm_exited(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct spr_test_exiting e = {};
	struct task_struct *task;
	struct spr_test_range *tr;
	int i;

	spr_test_attach_mm(test);
	tr = spr_test_range_new(test, s, &spr_test_vm_ops);
	/* The thread's range replaces the one made for the test thread. */
	spr_destroy(&tr->range);
	tr->destroyed = true;
	e.tr = tr;
	init_completion(&e.mapped);
	task = kthread_run(spr_test_exiting_fn, &e, "spr-kunit-exit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&e.mapped);
	KUNIT_ASSERT_EQ(test, e.ret, 0);
	/*
	 * exit_mmap() runs after mm_users drops to 0; vm_ops->close is the
	 * last it does with the range, so wait for that.
	 */
	for (i = 0; i < 5000 && !READ_ONCE(tr->range.vma_closed); i++)
		usleep_range(1000, 2000);
	KUNIT_ASSERT_TRUE(test, READ_ONCE(tr->range.vma_closed));
	KUNIT_ASSERT_EQ(test, atomic_read(&tr->range.mm->mm_users), 0);

	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), DATA_PAGES - 1);
	KUNIT_EXPECT_EQ(test, spr_use_range(&tr->range, 1, 2), -ESRCH);
	KUNIT_EXPECT_EQ(test, spr_shrinker_scan(s, 100), DATA_PAGES - 1);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 0);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 0), SPR_PAGE_IN_USE);
	KUNIT_EXPECT_EQ(test, spr_page_state(&tr->range, 1), SPR_PAGE_FREE);
}

/* ---- Concurrency ----------------------------------------------------- */

#define RACE_PAGES	48
#define RACE_WORKERS	2
#define RACE_OWN	16	/* pages each worker owns; the rest are shared */
#define RACE_ROUNDS	1500

struct spr_race {
	struct spr_test_range *tr;
	atomic_t running;
	atomic_long_t ops;
	atomic_long_t reclaimed;
	atomic_t errors;
	struct completion done;
};

struct spr_race_worker {
	struct spr_race *race;
	unsigned int id;
	u64 tag[RACE_OWN];
};

static void spr_race_error(struct spr_race *race, const char *what, long v)
{
	if (atomic_inc_return(&race->errors) <= 5)
		pr_err("spr-kunit race: %s: %ld\n", what, v);
}

/*
 * Use and stop random spans of the worker's own pages, checking their
 * bytes: a page that comes back holds zeroes (reclaimed) or the worker's
 * last tag (not reclaimed). Also use and stop the shared pages, whose state
 * races with the other worker's.
 */
static int spr_race_worker_fn(void *data)
{
	struct spr_race_worker *w = data;
	struct spr_race *race = w->race;
	struct shrinkable_page_range *range = &race->tr->range;
	size_t own = w->id * RACE_OWN, shared = RACE_WORKERS * RACE_OWN;
	struct rnd_state rnd;
	int round;

	prandom_seed_state(&rnd, 0x5eed + w->id);
	for (round = 0; round < RACE_ROUNDS; round++) {
		size_t a = prandom_u32_state(&rnd) % RACE_OWN;
		size_t b = a + 1 + prandom_u32_state(&rnd) % (RACE_OWN - a);
		size_t sa = shared + prandom_u32_state(&rnd) % (RACE_PAGES - shared);
		size_t i;
		int ret;

		ret = spr_use_range(range, own + a, own + b);
		if (ret) {
			spr_race_error(race, "use_range", ret);
			break;
		}
		for (i = a; i < b; i++) {
			size_t off = (own + i) << PAGE_SHIFT;
			u64 v;

			if (spr_read(range, off, &v, sizeof(v)) ||
			    (v && v != w->tag[i])) {
				spr_race_error(race, "page content", (long)v);
				break;
			}
			w->tag[i] = ((u64)w->id << 32) | (round + 1);
			spr_write(range, off, &w->tag[i], sizeof(w->tag[i]));
		}
		if (spr_use_range(range, sa, RACE_PAGES))
			spr_race_error(race, "use_range shared", sa);
		spr_stop_using_range(range, sa, RACE_PAGES);
		spr_stop_using_range(range, own + a, own + b);
		atomic_long_add(4, &race->ops);
		cond_resched();
	}
	if (atomic_dec_and_test(&race->running))
		complete(&race->done);
	return 0;
}

static int spr_race_scanner_fn(void *data)
{
	struct spr_race *race = data;
	unsigned long n = 1;

	while (atomic_read(&race->running)) {
		atomic_long_add(spr_shrinker_scan(race->tr->shrinker, n),
				&race->reclaimed);
		n = n % 7 + 1;
		cond_resched();
	}
	complete(&race->done);
	return 0;
}

static void spr_test_race_use_stop_scan(struct kunit *test)
{
	struct spr_shrinker *s = spr_test_shrinker(test);
	struct spr_race_worker *workers;
	struct spr_race race = {};
	struct task_struct *task;
	unsigned int i;
	size_t p;

	race.tr = spr_test_range_map(test, s, RACE_PAGES, &spr_test_vm_ops);
	workers = kunit_kcalloc(test, RACE_WORKERS, sizeof(*workers),
				GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, workers);
	atomic_set(&race.running, RACE_WORKERS);
	init_completion(&race.done);

	task = kthread_run(spr_race_scanner_fn, &race, "spr-kunit-scan");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	for (i = 0; i < RACE_WORKERS; i++) {
		workers[i].race = &race;
		workers[i].id = i;
		task = kthread_run(spr_race_worker_fn, &workers[i],
				   "spr-kunit-use/%u", i);
		if (IS_ERR(task)) {
			spr_race_error(&race, "kthread_run", PTR_ERR(task));
			if (atomic_dec_and_test(&race.running))
				complete(&race.done);
		}
	}
	/* The last worker completes once, the scanner once. */
	wait_for_completion(&race.done);
	wait_for_completion(&race.done);

	KUNIT_EXPECT_EQ(test, atomic_read(&race.errors), 0);
	spr_stop_using_range(&race.tr->range, 0, RACE_PAGES);
	for (i = 0; i < 10 && spr_shrinker_count(s); i++)
		atomic_long_add(spr_shrinker_scan(s, RACE_PAGES), &race.reclaimed);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(s), 0);
	for (p = 0; p < RACE_PAGES; p++) {
		KUNIT_EXPECT_EQ(test, spr_page_state(&race.tr->range, p),
				SPR_PAGE_FREE);
		spr_test_expect_unmapped(test, race.tr, p, "after the race");
	}
	kunit_info(test, "race: %ld operations, %ld pages reclaimed concurrently\n",
		   atomic_long_read(&race.ops), atomic_long_read(&race.reclaimed));
}

#define TEARDOWN_ROUNDS	60

struct spr_teardown {
	struct spr_shrinker *s;
	atomic_t stop;
	atomic_long_t reclaimed;
	struct completion done;
};

static int spr_teardown_scanner_fn(void *data)
{
	struct spr_teardown *t = data;

	while (!atomic_read(&t->stop)) {
		atomic_long_add(spr_shrinker_scan(t->s, 3), &t->reclaimed);
		cond_resched();
	}
	complete(&t->done);
	return 0;
}

/* Ranges are destroyed while a shrinker works on them in a loop. */
static void spr_test_destroy_while_scanning(struct kunit *test)
{
	struct spr_teardown t = { .s = spr_test_shrinker(test) };
	struct task_struct *task;
	int round;

	spr_test_attach_mm(test);
	init_completion(&t.done);
	task = kthread_run(spr_teardown_scanner_fn, &t, "spr-kunit-teardown");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));

	for (round = 0; round < TEARDOWN_ROUNDS; round++) {
		struct spr_test_range *tr;

		tr = spr_test_range_new(test, t.s, &spr_test_vm_ops);
		if (spr_test_try_map(tr, 0, 16, PROT_READ) ||
		    spr_use_range(&tr->range, 0, 16)) {
			KUNIT_FAIL(test, "round %d: map or use failed", round);
			break;
		}
		/*
		 * On a uniprocessor kernel the scanner runs only when we
		 * sleep: let it reclaim in some rounds, and race it in others.
		 */
		spr_stop_using_range(&tr->range, 0, 16);
		if (round % 3 == 0)
			usleep_range(100, 200);
		vm_munmap(tr->addr, 16 << PAGE_SHIFT);
		spr_test_range_destroy(tr);
	}
	atomic_set(&t.stop, 1);
	wait_for_completion(&t.done);
	KUNIT_EXPECT_EQ(test, spr_shrinker_count(t.s), 0);
	kunit_info(test, "teardown: %d ranges destroyed under a scanning shrinker, %ld pages reclaimed by it\n",
		   round, atomic_long_read(&t.reclaimed));
}

static struct kunit_case spr_test_cases[] = {
	KUNIT_CASE(spr_test_init_without_mm),
	KUNIT_CASE(spr_test_data_across_pages),
	KUNIT_CASE(spr_test_batches),
	KUNIT_CASE(spr_test_debugfs_builtin_user),
	KUNIT_CASE(spr_test_batch_enomem),
	KUNIT_CASE(spr_test_errors_bounds),
	KUNIT_CASE(spr_test_stop_out_of_bounds),
	KUNIT_CASE(spr_test_register_errors),
	KUNIT_CASE(spr_test_register_foreign_mm),
	KUNIT_CASE(spr_test_enomem),
	KUNIT_CASE(spr_test_vma_closed),
	KUNIT_CASE(spr_test_vma_replaced_by_anon),
	KUNIT_CASE(spr_test_vma_replaced_by_other_range),
	KUNIT_CASE(spr_test_vma_split),
	KUNIT_CASE(spr_test_reuse_stays_queued),
	KUNIT_CASE(spr_test_shared_lock),
	KUNIT_CASE(spr_test_two_ranges),
	KUNIT_CASE(spr_test_destroy_all_states),
	KUNIT_CASE(spr_test_mm_exited),
	KUNIT_CASE_SLOW(spr_test_race_use_stop_scan),
	KUNIT_CASE_SLOW(spr_test_destroy_while_scanning),
	KUNIT_CASE_SLOW(spr_test_model_exhaustive),
	{}
};

static struct kunit_suite spr_test_suite = {
	.name = "shrinkable_page_range",
	.test_cases = spr_test_cases,
};

kunit_test_suite(spr_test_suite);

MODULE_DESCRIPTION("KUnit tests for shrinkable page ranges");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
