// SPDX-License-Identifier: GPL-2.0
/*
 * spr_test: a misc device that uses shrinkable page ranges the way binder
 * does, so that user space can drive them on a real kernel.
 *
 * open() creates a range for the opening process, mmap() maps it read-only
 * (VM_DONTCOPY, no VM_MAYWRITE, faults give SIGBUS), and the ioctls of
 * spr_test_uapi.h use, stop, write, read and zero its pages. release()
 * destroys it. The fd may be passed to other processes, which then drive
 * the opener's range, as binder's senders drive a receiver's buffer.
 *
 * The driver checks every argument before it reaches the range, so nothing
 * that user space does here can make the range warn.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../shrinkable_page_range.h"
#include "spr_test_uapi.h"

/* The largest SPR_TEST_IOC_READ, to bound the kernel bounce buffer. */
#define SPR_TEST_MAX_READ	SZ_64K

struct spr_test_proc {
	struct shrinkable_page_range range;
	/*
	 * The data ioctls touch pages that they check are In use, without
	 * the range's lock. STOP is what could make such a page reclaimable
	 * under them, so it takes this for write and they take it for read.
	 */
	struct rw_semaphore io_lock;
};

static struct spr_shrinker spr_test_shrinker;

static vm_fault_t spr_test_fault(struct vm_fault *vmf)
{
	/* Only spr_use_range() maps pages; user space never faults one in. */
	return VM_FAULT_SIGBUS;
}

static void spr_test_vma_close(struct vm_area_struct *vma)
{
	struct spr_test_proc *proc = vma->vm_private_data;

	spr_vma_close(&proc->range);
}

static const struct vm_operations_struct spr_test_vm_ops = {
	.close = spr_test_vma_close,
	.fault = spr_test_fault,
};

static int spr_test_open(struct inode *inode, struct file *file)
{
	struct spr_test_proc *proc;
	int ret;

	proc = kzalloc(sizeof(*proc), GFP_KERNEL);
	if (!proc)
		return -ENOMEM;
	ret = spr_init(&proc->range, &spr_test_shrinker);
	if (ret) {
		kfree(proc);
		return ret;
	}
	init_rwsem(&proc->io_lock);
	file->private_data = proc;
	return 0;
}

static int spr_test_release(struct inode *inode, struct file *file)
{
	struct spr_test_proc *proc = file->private_data;

	spr_destroy(&proc->range);
	kfree(proc);
	return 0;
}

static int spr_test_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct spr_test_proc *proc = file->private_data;
	int ret;

	/* User space may read the pages, never write them. */
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	vm_flags_mod(vma, VM_DONTCOPY, VM_MAYWRITE);
	vma->vm_ops = &spr_test_vm_ops;
	vma->vm_private_data = proc;
	ret = spr_register_vma(&proc->range, vma);
	return ret < 0 ? ret : 0;
}

static size_t spr_test_nr_pages(struct spr_test_proc *proc)
{
	struct spr_range_stats st;

	spr_range_stats(&proc->range, &st);
	return st.nr_pages;
}

/* Copy a span in and refuse one that is reversed or passes the end. */
static int spr_test_get_span(struct spr_test_proc *proc, void __user *arg,
			     struct spr_test_span *span)
{
	if (copy_from_user(span, arg, sizeof(*span)))
		return -EFAULT;
	if (span->start > span->end || span->end > spr_test_nr_pages(proc))
		return -EINVAL;
	return 0;
}

static int spr_test_use(struct spr_test_proc *proc, void __user *arg)
{
	struct spr_test_span span;
	int ret;

	ret = spr_test_get_span(proc, arg, &span);
	if (ret)
		return ret;
	down_read(&proc->io_lock);
	ret = spr_use_range(&proc->range, span.start, span.end);
	up_read(&proc->io_lock);
	return ret;
}

static int spr_test_stop(struct spr_test_proc *proc, void __user *arg)
{
	struct spr_test_span span;
	int ret;

	/* Past the end is a caller's bug to the range: refuse it here. */
	ret = spr_test_get_span(proc, arg, &span);
	if (ret)
		return ret;
	down_write(&proc->io_lock);
	spr_stop_using_range(&proc->range, span.start, span.end);
	up_write(&proc->io_lock);
	return 0;
}

static int spr_test_read(struct spr_test_proc *proc,
			 const struct spr_test_io *io)
{
	void *buf;
	int ret;

	if (io->size > SPR_TEST_MAX_READ)
		return -EINVAL;
	/* A failure is user space's -ENOMEM, not a reason to warn. */
	buf = kvmalloc(io->size ?: 1, GFP_KERNEL | __GFP_NOWARN);
	if (!buf)
		return -ENOMEM;
	down_read(&proc->io_lock);
	ret = spr_read(&proc->range, io->offset, buf, io->size);
	up_read(&proc->io_lock);
	if (!ret && copy_to_user(u64_to_user_ptr(io->buf), buf, io->size))
		ret = -EFAULT;
	kvfree(buf);
	return ret;
}

static int spr_test_io(struct spr_test_proc *proc, unsigned int cmd,
		       void __user *arg)
{
	struct spr_test_io io;
	int ret;

	if (copy_from_user(&io, arg, sizeof(io)))
		return -EFAULT;
	if (cmd == SPR_TEST_IOC_READ)
		return spr_test_read(proc, &io);

	down_read(&proc->io_lock);
	if (cmd == SPR_TEST_IOC_WRITE)
		ret = spr_copy_from_user(&proc->range, io.offset,
					 u64_to_user_ptr(io.buf), io.size);
	else
		ret = spr_fill_zero(&proc->range, io.offset, io.size);
	up_read(&proc->io_lock);
	return ret;
}

/* The ABI's byte for each state: the enum is not part of the ABI. */
static const u8 spr_test_state_byte[] = {
	[SPR_PAGE_FREE] = SPR_TEST_FREE,
	[SPR_PAGE_AVAILABLE] = SPR_TEST_AVAILABLE,
	[SPR_PAGE_IN_USE] = SPR_TEST_IN_USE,
};

static int spr_test_states(struct spr_test_proc *proc, void __user *arg)
{
	struct spr_test_states req;
	u8 chunk[64];
	u64 end, done;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (check_add_overflow(req.start, req.count, &end) ||
	    end > spr_test_nr_pages(proc))
		return -EINVAL;

	for (done = 0; done < req.count; done += sizeof(chunk)) {
		size_t i, n = min_t(u64, req.count - done, sizeof(chunk));

		for (i = 0; i < n; i++)
			chunk[i] = spr_test_state_byte[spr_page_state(&proc->range,
						       req.start + done + i)];
		if (copy_to_user(u64_to_user_ptr(req.buf + done), chunk, n))
			return -EFAULT;
	}
	return 0;
}

static int spr_test_counters(struct spr_test_proc *proc, void __user *arg)
{
	struct spr_test_counters c = {};
	struct spr_range_stats st;

	spr_range_stats(&proc->range, &st);
	c.nr_pages = st.nr_pages;
	c.free = st.free;
	c.available = st.available;
	c.in_use = st.in_use;
	c.shrinker_available = spr_shrinker_count(&spr_test_shrinker);
	c.shrinker_reclaimed = atomic_long_read(&spr_test_shrinker.reclaimed);
	c.shrinker_alloc_failed =
		atomic_long_read(&spr_test_shrinker.alloc_failed);
	return copy_to_user(arg, &c, sizeof(c)) ? -EFAULT : 0;
}

static int spr_test_scan(void __user *arg)
{
	u64 nr;

	if (get_user(nr, (u64 __user *)arg))
		return -EFAULT;
	nr = spr_shrinker_scan(&spr_test_shrinker, nr);
	return put_user(nr, (u64 __user *)arg);
}

static long spr_test_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct spr_test_proc *proc = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case SPR_TEST_IOC_USE:
		return spr_test_use(proc, uarg);
	case SPR_TEST_IOC_STOP:
		return spr_test_stop(proc, uarg);
	case SPR_TEST_IOC_WRITE:
	case SPR_TEST_IOC_READ:
	case SPR_TEST_IOC_ZERO:
		return spr_test_io(proc, cmd, uarg);
	case SPR_TEST_IOC_STATES:
		return spr_test_states(proc, uarg);
	case SPR_TEST_IOC_COUNTERS:
		return spr_test_counters(proc, uarg);
	case SPR_TEST_IOC_SCAN:
		return spr_test_scan(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations spr_test_fops = {
	.owner = THIS_MODULE,
	.open = spr_test_open,
	.release = spr_test_release,
	.mmap = spr_test_mmap,
	.unlocked_ioctl = spr_test_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice spr_test_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "spr_test",
	.fops = &spr_test_fops,
	.mode = 0666,
};

static int __init spr_test_init(void)
{
	int ret;

	ret = spr_shrinker_register(&spr_test_shrinker, "spr-test");
	if (ret)
		return ret;
	ret = misc_register(&spr_test_misc);
	if (ret)
		spr_shrinker_unregister(&spr_test_shrinker);
	return ret;
}
module_init(spr_test_init);

static void __exit spr_test_exit(void)
{
	misc_deregister(&spr_test_misc);
	spr_shrinker_unregister(&spr_test_shrinker);
}
module_exit(spr_test_exit);

MODULE_DESCRIPTION("Test driver for shrinkable page ranges");
MODULE_LICENSE("GPL");
