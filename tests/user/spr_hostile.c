// SPDX-License-Identifier: GPL-2.0
/*
 * spr_hostile: what a careless or hostile process can do to /dev/spr_test.
 * None of it may crash, hang or corrupt anything; every refusal must come
 * with the errno that the uapi header promises.
 *
 * Each case runs in a process of its own with a time limit, so that a crash
 * or a hang is reported as that case's failure and the next case still runs.
 * The case's check lives in shared memory: the case and its helper
 * processes record failures in it, and only this parent prints it, so every
 * check prints exactly one line whatever happened.
 */
#define _GNU_SOURCE
#include <getopt.h>

#include "spr_user.h"

#define H_PAGES		16	/* the mapping of most cases */
#define H_BAD_PAGES	32	/* the mapping of hostile_bad_ioctls */
#define H_FUZZ_PAGES	64	/* the mapping of hostile_fuzz */
#define H_SCRATCH	(128UL << 10)
#define H_CASE_MS	10000
#define H_LONG_CASE_MS	20000
#define H_K9_WARMUP	20	/* B's loops before A is killed */
#define H_K9_WAIT_MS	5000
#define H_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct h_opts {
	unsigned int fuzz_iters;
	unsigned int kill_reps;
	__u64 seed;
	unsigned int budget_s;
	const char *only;
};

/* When the running case must wrap up: its time limit, less a margin. */
static __s64 h_deadline;

static bool h_fail_ret(struct spr_check *c, const char *what, int ret,
		       const char *expected)
{
	if (!ret)
		return spr_check_fail(c, "%s: succeeded, expected %s", what,
				      expected);
	if (ret > 0)
		return spr_check_fail(c, "%s: returned %d, expected %s", what,
				      ret, expected);
	return spr_check_fail(c, "%s: %s, expected %s", what,
			      spr_errname(-ret), expected);
}

/* @ret, from an spr_*() wrapper, must be 0. */
static bool h_expect_ok(struct spr_check *c, const char *what, int ret)
{
	return !ret || h_fail_ret(c, what, ret, "success");
}

/* @ret must be a failure with an errno in @errs. */
static bool h_expect_err(struct spr_check *c, const char *what, int ret,
			 unsigned int errs)
{
	char set[96];

	if (ret < 0 && spr_errno_in(-ret, errs))
		return true;
	return h_fail_ret(c, what, ret, spr_errset(errs, set, sizeof(set)));
}

/* @ret must be 0 or a failure with an errno in @errs. */
static bool h_expect_ok_or(struct spr_check *c, const char *what, int ret,
			   unsigned int errs)
{
	char set[96];

	if (!ret || (ret < 0 && spr_errno_in(-ret, errs)))
		return true;
	spr_errset(errs, set, sizeof(set));
	return spr_check_fail(c, "%s: returned %d (%s), expected success or %s",
			      what, ret, ret < 0 ? spr_errname(-ret) : "?",
			      set);
}

/* @len bytes @got, from byte @off of the range, must be @want. */
static bool h_expect_same(struct spr_check *c, const char *what, size_t off,
			  const __u8 *got, const __u8 *want, size_t len)
{
	size_t i = spr_first_diff(got, want, len);

	if (i == len)
		return true;
	return spr_check_fail(c, "%s: byte %zu expected 0x%02x got 0x%02x",
			      what, off + i, want[i], got[i]);
}

/* Reading @addr must raise @sig, or, when @sig is 0, give @byte. */
static bool h_expect_read(struct spr_check *c, const char *what,
			  const __u8 *addr, int sig, __u8 byte)
{
	__u8 got = 0;
	int raised = spr_copy_safe(&got, addr, 1);

	if (raised == sig && (sig || got == byte))
		return true;
	if (raised)
		return spr_check_fail(c, "%s: reading %p raised %s, expected %s",
				      what, (const void *)addr,
				      spr_signame(raised),
				      sig ? spr_signame(sig) : "data");
	if (sig)
		return spr_check_fail(c, "%s: reading %p gave 0x%02x, expected %s",
				      what, (const void *)addr, got,
				      spr_signame(sig));
	return spr_check_fail(c, "%s: reading %p gave 0x%02x, expected 0x%02x",
			      what, (const void *)addr, got, byte);
}

static bool h_open(struct spr_check *c, int *fd)
{
	*fd = open(SPR_TEST_DEVICE, O_RDWR);
	if (*fd < 0)
		return spr_check_fail(c, "open %s: %s", SPR_TEST_DEVICE,
				      spr_errname(errno));
	return true;
}

static bool h_open_map(struct spr_check *c, size_t pages, int *fd,
		       const __u8 **map)
{
	if (!h_open(c, fd))
		return false;
	*map = spr_map(*fd, pages);
	if (!*map) {
		spr_check_fail(c, "read-only mmap of %zu pages: %s", pages,
			       spr_errname(errno));
		close(*fd);
		return false;
	}
	return true;
}

/* An mmap of @pages of @fd with @prot and @flags must fail with @err. */
static bool h_expect_mmap_err(struct spr_check *c, const char *what, int fd,
			      size_t pages, int prot, int flags, int err)
{
	size_t len = pages * SPR_PAGE_SIZE;
	void *p = mmap(NULL, len, prot, flags, fd, 0);

	if (p == MAP_FAILED && errno == err)
		return true;
	if (p == MAP_FAILED)
		return spr_check_fail(c, "%s: mmap failed with %s, expected %s",
				      what, spr_errname(errno),
				      spr_errname(err));
	munmap(p, len);
	return spr_check_fail(c, "%s: mmap succeeded, expected %s", what,
			      spr_errname(err));
}

/* @len bytes and a PROT_NONE guard page right after them. */
static __u8 *h_guarded_alloc(size_t len, __u8 **guard)
{
	__u8 *p = mmap(NULL, len + SPR_PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	*guard = p + len;
	if (mprotect(*guard, SPR_PAGE_SIZE, PROT_NONE)) {
		munmap(p, len + SPR_PAGE_SIZE);
		return NULL;
	}
	return p;
}

/* Wait for a helper process that must exit 0 before h_deadline. */
static bool h_wait_helper(struct spr_check *c, const char *who, pid_t pid)
{
	char how[64];
	int status;

	if (pid < 0)
		return spr_check_fail(c, "fork of the %s: %s", who,
				      spr_errname(errno));
	if (spr_wait_pid(pid, h_deadline, &status)) {
		spr_kill_reap(pid, &status);
		return spr_check_fail(c, "the %s did not finish in time", who);
	}
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return true;
	return spr_check_fail(c, "the %s: %s", who,
			      spr_status_str(status, how, sizeof(how)));
}

/* One vma per range: a second mmap of the fd is refused. */
static void h_second_mmap(struct spr_check *c, const struct h_opts *o)
{
	const __u8 *map;
	int fd;

	(void)o;
	if (!h_open_map(c, H_PAGES, &fd, &map))
		return;
	h_expect_mmap_err(c, "second mmap, same length", fd, H_PAGES,
			  PROT_READ, MAP_SHARED, EBUSY);
	h_expect_mmap_err(c, "second mmap, one page", fd, 1, PROT_READ,
			  MAP_SHARED, EBUSY);
	/* The first mapping is still the one that the range serves. */
	if (h_expect_ok(c, "USE [0, 1) after the refused mmaps",
			spr_use(fd, 0, 1)))
		h_expect_read(c, "page 0 after USE", map, 0, 0);
	close(fd);
}

/*
 * Writable mappings are refused by the driver itself (the fd is O_RDWR, so
 * the VFS lets them through), and a read-only one cannot be made writable.
 */
static void h_writable_mmap(struct spr_check *c, const struct h_opts *o)
{
	const __u8 *map;
	int fd;

	(void)o;
	if (!h_open(c, &fd))
		return;
	h_expect_mmap_err(c, "PROT_READ|PROT_WRITE, MAP_SHARED", fd, H_PAGES,
			  PROT_READ | PROT_WRITE, MAP_SHARED, EPERM);
	h_expect_mmap_err(c, "PROT_READ|PROT_WRITE, MAP_PRIVATE", fd,
			  H_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE, EPERM);
	/* A refused mmap registers nothing: the fd can still be mapped. */
	map = spr_map(fd, H_PAGES);
	if (!map) {
		spr_check_fail(c, "read-only mmap after the refused ones: %s",
			       spr_errname(errno));
	} else {
		if (!mprotect((void *)map, H_PAGES * SPR_PAGE_SIZE, PROT_WRITE))
			spr_check_fail(c, "mprotect(PROT_WRITE) succeeded, expected EACCES");
		else if (errno != EACCES)
			spr_check_fail(c, "mprotect(PROT_WRITE): %s, expected EACCES",
				       spr_errname(errno));
		if (h_expect_ok(c, "USE [0, 1)", spr_use(fd, 0, 1)))
			h_expect_read(c, "page 0 after USE", map, 0, 0);
	}
	close(fd);
}

/* The forked child: no mapping at the address, but the fd still works. */
static void h_fork_child(struct spr_check *c, int fd, const __u8 *map,
			 const __u8 *pattern, size_t off, size_t len)
{
	h_expect_read(c, "child reading the parent's mapping (VM_DONTCOPY)",
		      map, SIGSEGV, 0);
	if (h_expect_ok(c, "child USE [4, 6) of the parent's range",
			spr_use(fd, 4, 6)))
		h_expect_ok(c, "child WRITE into the parent's range",
			    spr_write(fd, off, len, pattern));
	_exit(0);
}

static void h_fork(struct spr_check *c, const struct h_opts *o)
{
	const size_t off = 4 * SPR_PAGE_SIZE + 100, len = 5000;
	__u8 pattern[5000], got[5000];
	__u8 states[2];
	__u64 rng = o->seed;
	const __u8 *map;
	int fd, sig;
	pid_t pid;

	if (!h_open_map(c, H_PAGES, &fd, &map))
		return;
	spr_rand_fill(&rng, pattern, len);
	if (!h_expect_ok(c, "USE [0, 4)", spr_use(fd, 0, 4)) ||
	    !h_expect_read(c, "parent reading page 0", map, 0, 0))
		goto out;
	pid = spr_fork();
	if (!pid)
		h_fork_child(c, fd, map, pattern, off, len);
	if (!h_wait_helper(c, "forked child", pid))
		goto out;
	/* What the child wrote is in the parent's mapping. */
	if (!h_expect_ok(c, "STATES [4, 6)", spr_states(fd, 4, 2, states)))
		goto out;
	if (states[0] != SPR_TEST_IN_USE || states[1] != SPR_TEST_IN_USE)
		spr_check_fail(c, "pages 4 and 5 in states %u and %u, expected %u",
			       states[0], states[1], SPR_TEST_IN_USE);
	sig = spr_copy_safe(got, map + off, len);
	if (sig) {
		spr_check_fail(c, "parent reading the child's bytes raised %s",
			       spr_signame(sig));
		goto out;
	}
	h_expect_same(c, "child's bytes in the parent's mapping", off, got,
		      pattern, len);
	if (h_expect_ok(c, "READ of the child's bytes",
			spr_read(fd, off, len, got)))
		h_expect_same(c, "child's bytes through READ", off, got,
			      pattern, len);
out:
	close(fd);
}

/*
 * After munmap, an anonymous mapping takes the address over. Nothing of
 * the range may be inserted into it or zapped from it, and the range must
 * say ESRCH to USE but keep working for the rest.
 */
static void h_munmap_remap(struct spr_check *c, const struct h_opts *o)
{
	const size_t len = H_PAGES * SPR_PAGE_SIZE, used = 8 * SPR_PAGE_SIZE;
	static __u8 pattern[H_PAGES * SPR_PAGE_SIZE];
	static __u8 anon_pattern[H_PAGES * SPR_PAGE_SIZE];
	__u8 states[H_PAGES], page[SPR_PAGE_SIZE];
	__u64 rng = o->seed, nr;
	const __u8 *map;
	__u8 *anon;
	size_t i;
	int fd, ret;

	if (!h_open_map(c, H_PAGES, &fd, &map))
		return;
	spr_rand_fill(&rng, pattern, used);
	spr_rand_fill(&rng, anon_pattern, len);
	if (!h_expect_ok(c, "USE [0, 8)", spr_use(fd, 0, 8)) ||
	    !h_expect_ok(c, "WRITE [0, 8 pages)",
			 spr_write(fd, 0, used, pattern)) ||
	    !h_expect_ok(c, "STOP [0, 4)", spr_stop(fd, 0, 4)))
		goto out;
	if (munmap((void *)map, len)) {
		spr_check_fail(c, "munmap: %s", spr_errname(errno));
		goto out;
	}
	anon = mmap((void *)map, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (anon != map) {
		spr_check_fail(c, "anonymous MAP_FIXED mmap at %p: %s",
			       (const void *)map, spr_errname(errno));
		goto out;
	}
	memcpy(anon, anon_pattern, len);

	h_expect_err(c, "USE [0, 1) of an Available page after munmap",
		     spr_use(fd, 0, 1), SPR_ERR(ESRCH));
	h_expect_err(c, "USE [8, 9) of a Free page after munmap",
		     spr_use(fd, 8, 9), SPR_ERR(ESRCH));
	/* Page 4 is still In use: READ may serve it, but only its bytes. */
	ret = spr_read(fd, 4 * SPR_PAGE_SIZE, SPR_PAGE_SIZE, page);
	if (h_expect_ok_or(c, "READ of In-use page 4 after munmap", ret,
			   SPR_ERR(ESRCH) | SPR_ERR(EFAULT)) && !ret &&
	    memcmp(page, pattern + 4 * SPR_PAGE_SIZE, SPR_PAGE_SIZE))
		spr_check_fail(c,
			       "READ of page 4 after munmap returned other bytes than were written");
	nr = 1 << 20;
	h_expect_ok(c, "SCAN after munmap", spr_scan(fd, &nr));
	h_expect_ok(c, "STOP [0, 16) after munmap", spr_stop(fd, 0, H_PAGES));
	nr = 1 << 20;
	h_expect_ok(c, "SCAN after STOP", spr_scan(fd, &nr));
	h_expect_ok(c, "writing 2 to /proc/sys/vm/drop_caches",
		    spr_write_file("/proc/sys/vm/drop_caches", "2"));

	i = spr_first_diff(anon, anon_pattern, len);
	if (i < len)
		spr_check_fail(c,
			       "the anonymous mapping changed at byte %zu (page %zu): expected 0x%02x got 0x%02x",
			       i, i / SPR_PAGE_SIZE, anon_pattern[i], anon[i]);
	/* Everything was handed back and scanned: nothing is left. */
	ret = spr_states(fd, 0, H_PAGES, states);
	if (h_expect_ok_or(c, "STATES after munmap", ret,
			   SPR_ERR(ESRCH) | SPR_ERR(EINVAL)) && !ret)
		for (i = 0; i < H_PAGES; i++)
			if (states[i] != SPR_TEST_FREE) {
				spr_check_fail(c,
					       "page %zu in state %u after STOP and SCAN of everything, expected %u",
					       i, states[i], SPR_TEST_FREE);
				break;
			}
	h_expect_err(c, "USE [0, 1) after the scans", spr_use(fd, 0, 1),
		     SPR_ERR(ESRCH));
	munmap(anon, len);
out:
	close(fd);
}

/* The process that receives the fd maps it: not its range, EINVAL. */
static void h_foreign_child(struct spr_check *c, int sock)
{
	int fd = spr_recv_fd(sock, h_deadline);
	void *p;

	if (fd < 0) {
		spr_check_fail(c, "receiving the fd: %s", spr_errname(-fd));
		_exit(1);
	}
	p = mmap(NULL, H_PAGES * SPR_PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED)
		spr_check_fail(c, "mmap of another process's fd succeeded, expected EINVAL");
	else if (errno != EINVAL)
		spr_check_fail(c, "mmap of another process's fd: %s, expected EINVAL",
			       spr_errname(errno));
	_exit(0);
}

static void h_foreign_mmap(struct spr_check *c, const struct h_opts *o)
{
	const __u8 *map;
	int sv[2], fd, ret;
	pid_t pid;

	(void)o;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		spr_check_fail(c, "socketpair: %s", spr_errname(errno));
		return;
	}
	/* Fork first, so that the child has no inherited copy of the fd. */
	pid = spr_fork();
	if (!pid) {
		close(sv[0]);
		h_foreign_child(c, sv[1]);
	}
	close(sv[1]);
	if (pid > 0 && h_open(c, &fd)) {
		ret = spr_send_fd(sv[0], fd);
		h_expect_ok(c, "sending the fd", ret);
		if (h_wait_helper(c, "receiving process", pid)) {
			/* The refused mmap registered nothing. */
			map = spr_map(fd, H_PAGES);
			if (!map)
				spr_check_fail(c, "the opener's mmap after the refused one: %s",
					       spr_errname(errno));
			else if (h_expect_ok(c, "USE [0, 1)",
					     spr_use(fd, 0, 1)))
				h_expect_read(c, "page 0 after USE", map, 0,
					      0);
		}
		close(fd);
		close(sv[0]);
	} else {
		/* The child sees the socket end instead of an fd. */
		close(sv[0]);
		h_wait_helper(c, "receiving process", pid);
	}
}

/* Process A: open, map, pass the fd to B, and wait to be killed. */
static void h_k9_a(struct spr_check *c, int sock)
{
	const __u8 *map;
	int fd;

	if (!h_open_map(c, H_PAGES, &fd, &map) ||
	    !h_expect_ok(c, "A: sending the fd", spr_send_fd(sock, fd)))
		_exit(1);
	/* Bounded: the socket ends when B does, or the case times out. */
	spr_poll_in(sock, h_deadline);
	_exit(0);
}

/* Once A's mm is gone, every ioctl may fail, but only with these. */
static void h_k9_after(struct spr_check *c, int fd)
{
	const unsigned int errs = SPR_ERR(ESRCH) | SPR_ERR(EFAULT) |
				  SPR_ERR(EINVAL);
	struct spr_test_counters ctr;
	__u8 states[H_PAGES];
	__u64 x = 0, nr = 64;

	h_expect_err(c, "B: USE again after ESRCH", spr_use(fd, 0, 1),
		     SPR_ERR(ESRCH));
	h_expect_ok_or(c, "B: WRITE after A died", spr_write(fd, 0, 8, &x),
		       errs);
	h_expect_ok_or(c, "B: READ after A died", spr_read(fd, 0, 8, &x),
		       errs);
	h_expect_ok_or(c, "B: ZERO after A died", spr_zero(fd, 0, 8), errs);
	h_expect_ok_or(c, "B: STOP after A died", spr_stop(fd, 0, H_PAGES),
		       errs);
	h_expect_ok_or(c, "B: STATES after A died",
		       spr_states(fd, 0, H_PAGES, states), errs);
	h_expect_ok_or(c, "B: COUNTERS after A died", spr_counters(fd, &ctr),
		       errs);
	h_expect_ok_or(c, "B: SCAN after A died", spr_scan(fd, &nr), errs);
}

/*
 * Process B: drive A's range with the fd A sent, USE/WRITE/READ/STOP in a
 * loop, until USE says ESRCH: A was killed and its mm is gone.
 */
static void h_k9_b(struct spr_check *c, int sock, __u64 *loops)
{
	const unsigned int errs = SPR_ERR(ESRCH) | SPR_ERR(EFAULT);
	int fd = spr_recv_fd(sock, h_deadline);
	__u64 i, got;
	size_t page;
	int ret;

	if (fd < 0) {
		spr_check_fail(c, "B: receiving A's fd: %s", spr_errname(-fd));
		_exit(1);
	}
	for (i = 0; spr_now_ms() < h_deadline; i++) {
		page = i % H_PAGES;
		ret = spr_use(fd, page, page + 1);
		if (ret == -ESRCH)
			break;
		if (!h_expect_ok(c, "B: USE of A's page", ret))
			_exit(1);
		ret = spr_write(fd, page * SPR_PAGE_SIZE + 8, sizeof(i), &i);
		if (!ret)
			ret = spr_read(fd, page * SPR_PAGE_SIZE + 8,
				       sizeof(got), &got);
		if (!ret && got != i)
			spr_check_fail(c, "B: READ of page %zu gave %llu after a WRITE of %llu",
				       page, got,
				       i);
		h_expect_ok_or(c, "B: WRITE and READ of A's page", ret, errs);
		h_expect_ok_or(c, "B: STOP of A's page",
			       spr_stop(fd, page, page + 1), SPR_ERR(ESRCH));
		__atomic_store_n(loops, i + 1, __ATOMIC_RELAXED);
	}
	if (spr_now_ms() >= h_deadline) {
		spr_check_fail(c, "B: USE never failed with ESRCH, %llu loops",
			       i);
		_exit(1);
	}
	h_k9_after(c, fd);
	close(fd);
	_exit(0);
}

/* Start A and B, connected by a unix socket; false if a fork failed. */
static bool h_k9_start(struct spr_check *c, __u64 *loops, pid_t *a,
		       pid_t *b)
{
	int sv[2], status;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		spr_check_fail(c, "socketpair: %s", spr_errname(errno));
		return false;
	}
	*a = spr_fork();
	if (!*a) {
		close(sv[1]);
		h_k9_a(c, sv[0]);
	}
	*b = *a < 0 ? -1 : spr_fork();
	if (!*b) {
		close(sv[0]);
		h_k9_b(c, sv[1], loops);
	}
	close(sv[0]);
	close(sv[1]);
	if (*a > 0 && *b > 0)
		return true;
	spr_check_fail(c, "fork: %s", spr_errname(errno));
	if (*a > 0)
		spr_kill_reap(*a, &status);
	return false;
}

/* One round of kill -9: returns the ms from the kill to B's exit, or -1. */
static __s64 h_kill9_once(struct spr_check *c, unsigned int rep,
			  __u64 *loops)
{
	__s64 killed, until;
	char how[64];
	int status;
	pid_t a, b;

	__atomic_store_n(loops, 0, __ATOMIC_RELAXED);
	if (!h_k9_start(c, loops, &a, &b))
		return -1;
	/* Kill A while B is busy with its range. */
	until = spr_now_ms() + H_K9_WAIT_MS;
	while (__atomic_load_n(loops, __ATOMIC_RELAXED) < H_K9_WARMUP &&
	       spr_now_ms() < until)
		spr_sleep_ms(1);
	killed = spr_now_ms();
	spr_kill_reap(a, &status);
	if (__atomic_load_n(loops, __ATOMIC_RELAXED) < H_K9_WARMUP) {
		spr_check_fail(c,
			       "round %u: B made %llu loops on A's range in %d ms, expected %d",
			       rep, __atomic_load_n(loops, __ATOMIC_RELAXED),
			       H_K9_WAIT_MS, H_K9_WARMUP);
		spr_kill_reap(b, &status);
		return -1;
	}
	if (spr_wait_pid(b, killed + H_K9_WAIT_MS, &status)) {
		spr_kill_reap(b, &status);
		spr_check_fail(c,
			       "round %u: B still running %d ms after A was killed, %llu loops",
			       rep, H_K9_WAIT_MS,
			       __atomic_load_n(loops, __ATOMIC_RELAXED));
		return -1;
	}
	/* B explained a non-zero exit in the check itself. */
	if (WIFSIGNALED(status))
		spr_check_fail(c, "round %u: B %s", rep,
			       spr_status_str(status, how, sizeof(how)));
	return spr_now_ms() - killed;
}

static void h_kill9(struct spr_check *c, const struct h_opts *o)
{
	__u64 *loops = spr_shared_alloc(sizeof(*loops));
	__s64 ms, max_ms = 0;
	unsigned int rep;

	if (!loops) {
		spr_check_fail(c, "shared memory: %s", spr_errname(errno));
		return;
	}
	for (rep = 0; rep < o->kill_reps && spr_check_ok(c); rep++) {
		ms = h_kill9_once(c, rep, loops);
		if (ms > max_ms)
			max_ms = ms;
	}
	spr_metric("hostile_kill9_max_exit_ms", max_ms);
}

/* What hostile_bad_ioctls works on. */
struct h_bad {
	int fd;
	const __u8 *map;
	__u8 *scratch;	/* H_SCRATCH bytes, then a guard page */
	__u8 *guard;
	__u8 expect[4 * SPR_PAGE_SIZE];	/* pages [0, 4), In use */
};

/* Numbers the driver does not know, with a valid argument: ENOTTY. */
static void h_bad_numbers(struct spr_check *c, struct h_bad *b)
{
	static const struct {
		const char *what;
		unsigned long cmd;
	} cmds[] = {
		{ "_IO(magic, 0)", _IO(SPR_TEST_IOC_MAGIC, 0) },
		{ "_IOW(magic, 9, span)",
		  _IOW(SPR_TEST_IOC_MAGIC, 9, struct spr_test_span) },
		{ "_IOWR(magic, 255, u64)",
		  _IOWR(SPR_TEST_IOC_MAGIC, 255, __u64) },
		{ "USE's number, read direction",
		  _IOR(SPR_TEST_IOC_MAGIC, 1, struct spr_test_span) },
		{ "USE's number, u32 size", _IOW(SPR_TEST_IOC_MAGIC, 1, __u32) },
		{ "SCAN's number, write direction",
		  _IOW(SPR_TEST_IOC_MAGIC, 8, __u64) },
		{ "another magic", _IOW('z', 1, struct spr_test_span) },
	};
	struct spr_test_span span = { 0, 1 };
	unsigned int i;

	for (i = 0; i < H_ARRAY_SIZE(cmds); i++)
		h_expect_err(c, cmds[i].what,
			     spr_ioctl(b->fd, cmds[i].cmd, &span),
			     SPR_ERR(ENOTTY));
}

/* Each ioctl with an argument pointer that cannot be copied: EFAULT. */
static void h_bad_pointers(struct spr_check *c, struct h_bad *b)
{
	static const struct {
		const char *what;
		unsigned long cmd;
	} cmds[] = {
		{ "USE", SPR_TEST_IOC_USE }, { "STOP", SPR_TEST_IOC_STOP },
		{ "WRITE", SPR_TEST_IOC_WRITE }, { "READ", SPR_TEST_IOC_READ },
		{ "ZERO", SPR_TEST_IOC_ZERO }, { "STATES", SPR_TEST_IOC_STATES },
		{ "COUNTERS", SPR_TEST_IOC_COUNTERS },
		{ "SCAN", SPR_TEST_IOC_SCAN },
	};
	const struct {
		const char *what;
		void *ptr;
	} ptrs[] = {
		{ "NULL", NULL },
		{ "a kernel address", (void *)SPR_KERNEL_ADDR },
		{ "a non-canonical address", (void *)SPR_NONCANONICAL_ADDR },
		{ "a PROT_NONE page", b->guard },
		/* Every argument is 8 bytes or more: half of it is readable. */
		{ "4 bytes before a PROT_NONE page", b->guard - 4 },
	};
	unsigned int i, j;
	char what[96];

	for (i = 0; i < H_ARRAY_SIZE(cmds); i++)
		for (j = 0; j < H_ARRAY_SIZE(ptrs); j++) {
			snprintf(what, sizeof(what), "%s with %s as argument",
				 cmds[i].what, ptrs[j].what);
			h_expect_err(c, what,
				     spr_ioctl(b->fd, cmds[i].cmd, ptrs[j].ptr),
				     SPR_ERR(EFAULT));
		}
}

/* Bad buffers inside valid arguments, and pages that are not In use. */
static void h_bad_buffers(struct spr_check *c, struct h_bad *b)
{
	const __u64 free_page = 8 * SPR_PAGE_SIZE;
	const __u64 cross = 4 * SPR_PAGE_SIZE - 5;
	__u8 *kernel = (__u8 *)SPR_KERNEL_ADDR;
	const unsigned int efault = SPR_ERR(EFAULT);
	__u8 src[10] = { 0 };
	int fd = b->fd;

	h_expect_err(c, "WRITE from NULL", spr_write(fd, 0, 100, NULL), efault);
	h_expect_err(c, "WRITE from a kernel address",
		     spr_write(fd, 0, 100, kernel), efault);
	h_expect_err(c, "WRITE from a PROT_NONE page",
		     spr_write(fd, 0, 100, b->guard), efault);
	h_expect_err(c, "WRITE from a Free page of its own mapping",
		     spr_write(fd, 0, 100, b->map + free_page), efault);
	h_expect_err(c, "READ into NULL", spr_read(fd, 0, 100, NULL), efault);
	h_expect_err(c, "READ into a kernel address",
		     spr_read(fd, 0, 100, kernel), efault);
	h_expect_err(c, "READ into a PROT_NONE page",
		     spr_read(fd, 0, 100, b->guard), efault);
	h_expect_err(c, "READ into its own read-only mapping",
		     spr_read(fd, 0, 100, (void *)b->map), efault);
	h_expect_err(c, "STATES into NULL", spr_states(fd, 0, 4, NULL), efault);
	h_expect_err(c, "STATES into a kernel address",
		     spr_states(fd, 0, 4, kernel), efault);
	h_expect_err(c, "STATES into its own read-only mapping",
		     spr_states(fd, 0, 4, (__u8 *)b->map), efault);

	h_expect_err(c, "WRITE to a Free page",
		     spr_write(fd, free_page, 10, b->scratch), efault);
	h_expect_err(c, "READ of a Free page",
		     spr_read(fd, free_page, 10, b->scratch), efault);
	h_expect_err(c, "ZERO of a Free page", spr_zero(fd, free_page, 10),
		     efault);
	/*
	 * From In-use page 3 into Free page 4. The bytes before the fault
	 * may be written: they are the bytes that are there already.
	 */
	memcpy(src, b->expect + cross, 5);
	h_expect_err(c, "WRITE from an In-use page into a Free one",
		     spr_write(fd, cross, sizeof(src), src), efault);
	h_expect_err(c, "READ from an In-use page into a Free one",
		     spr_read(fd, cross, sizeof(src), b->scratch), efault);
}

/* Spans past the end, or reversed with huge numbers: never a success. */
static void h_bad_spans(struct spr_check *c, struct h_bad *b)
{
	const unsigned int errs = SPR_ERR(EINVAL) | SPR_ERR(EFAULT);
	const __u64 nr = H_BAD_PAGES, max = UINT64_MAX;
	static const char *const names[] = { "USE", "STOP" };
	const struct spr_test_span spans[] = {
		{ 0, nr + 1 }, { nr, nr + 1 }, { 0, max }, { max - 1, max },
		{ max, max - 1 }, { nr + 5, nr + 1 },
	};
	const struct spr_test_states states[] = {
		{ nr - 1, 2, 0 }, { nr, 1, 0 }, { max, 2, 0 }, { 0, max, 0 },
		{ max - 1, 4, 0 },
	};
	struct spr_test_states st;
	unsigned int i, j;
	char what[96];
	int ret;

	for (i = 0; i < H_ARRAY_SIZE(spans); i++)
		for (j = 0; j < 2; j++) {
			snprintf(what, sizeof(what), "%s [%llu, %llu)",
				 names[j], spans[i].start,
				 spans[i].end);
			if (j)
				ret = spr_stop(b->fd, spans[i].start,
					       spans[i].end);
			else
				ret = spr_use(b->fd, spans[i].start,
					      spans[i].end);
			h_expect_err(c, what, ret, errs);
		}
	for (i = 0; i < H_ARRAY_SIZE(states); i++) {
		st = states[i];
		st.buf = (uintptr_t)b->scratch;
		snprintf(what, sizeof(what), "STATES start %llu count %llu",
			 st.start,
			 st.count);
		h_expect_err(c, what,
			     spr_ioctl(b->fd, SPR_TEST_IOC_STATES, &st), errs);
	}
}

/* Byte ranges past the end or overflowing: never a success. */
static void h_bad_offsets(struct spr_check *c, struct h_bad *b)
{
	const unsigned int errs = SPR_ERR(EINVAL) | SPR_ERR(EFAULT);
	const __u64 end = H_BAD_PAGES * SPR_PAGE_SIZE, max = UINT64_MAX;
	static const struct {
		const char *what;
		unsigned long cmd;
	} cmds[] = {
		{ "WRITE", SPR_TEST_IOC_WRITE }, { "READ", SPR_TEST_IOC_READ },
		{ "ZERO", SPR_TEST_IOC_ZERO },
	};
	const struct {
		__u64 offset;
		__u64 size;
	} ios[] = {
		{ max - 1, 4 }, { end - 2, 4 }, { end, 1 }, { 0, max },
		{ max, max }, { 4, max - 2 },
	};
	unsigned int i, j;
	char what[96];

	for (i = 0; i < H_ARRAY_SIZE(cmds); i++)
		for (j = 0; j < H_ARRAY_SIZE(ios); j++) {
			snprintf(what, sizeof(what), "%s offset %llu size %llu",
				 cmds[i].what,
				 ios[j].offset,
				 ios[j].size);
			h_expect_err(c, what,
				     spr_io(b->fd, cmds[i].cmd, ios[j].offset,
					    ios[j].size, b->scratch),
				     errs);
		}
}

/* READ takes 64 KiB, not a byte more. */
static void h_read_limit(struct spr_check *c, struct h_bad *b)
{
	const __u64 first = H_BAD_PAGES - 17;
	const __u64 off = first * SPR_PAGE_SIZE;

	if (!h_expect_ok(c, "USE [15, 32)", spr_use(b->fd, first, H_BAD_PAGES)))
		return;
	memset(b->scratch, 0xff, SPR_READ_MAX);
	if (h_expect_ok(c, "READ of 64 KiB",
			spr_read(b->fd, off, SPR_READ_MAX, b->scratch)) &&
	    !spr_is_zero(b->scratch, SPR_READ_MAX))
		spr_check_fail(c, "READ of 64 KiB of fresh pages is not all zeros");
	h_expect_err(c, "READ of 64 KiB + 1",
		     spr_read(b->fd, off, SPR_READ_MAX + 1, b->scratch),
		     SPR_ERR(EINVAL));
}

/* An fd that was never mapped: nothing to write into. */
static void h_before_mmap(struct spr_check *c, struct h_bad *b)
{
	const unsigned int errs = SPR_ERR(EINVAL) | SPR_ERR(ESRCH) |
				  SPR_ERR(EFAULT);
	struct spr_test_counters ctr;
	int fd;

	if (!h_open(c, &fd))
		return;
	h_expect_err(c, "USE before mmap", spr_use(fd, 0, 1), errs);
	h_expect_err(c, "STOP before mmap", spr_stop(fd, 0, 1), errs);
	h_expect_err(c, "WRITE before mmap", spr_write(fd, 0, 16, b->scratch),
		     errs);
	h_expect_err(c, "READ before mmap", spr_read(fd, 0, 16, b->scratch),
		     errs);
	h_expect_err(c, "ZERO before mmap", spr_zero(fd, 0, 16), errs);
	h_expect_err(c, "STATES before mmap",
		     spr_states(fd, 0, 1, b->scratch), errs);
	if (h_expect_ok(c, "COUNTERS before mmap", spr_counters(fd, &ctr)) &&
	    (ctr.nr_pages || ctr.free || ctr.available || ctr.in_use))
		spr_check_fail(c,
			       "COUNTERS before mmap: nr_pages %llu free %llu available %llu in_use %llu, expected zeros",
			       ctr.nr_pages,
			       ctr.free,
			       ctr.available,
			       ctr.in_use);
	close(fd);
}

/* After all that, the range is exactly as the valid calls left it. */
static void h_bad_intact(struct spr_check *c, struct h_bad *b)
{
	const size_t len = sizeof(b->expect);
	__u8 states[H_BAD_PAGES];
	unsigned int i, want;
	int sig;

	if (!h_expect_ok(c, "STATES at the end",
			 spr_states(b->fd, 0, H_BAD_PAGES, states)))
		return;
	for (i = 0; i < H_BAD_PAGES; i++) {
		want = i < 4 || i >= H_BAD_PAGES - 17 ? SPR_TEST_IN_USE :
							 SPR_TEST_FREE;
		if (states[i] != want) {
			spr_check_fail(c, "page %u in state %u at the end, expected %u",
				       i, states[i], want);
			return;
		}
	}
	if (h_expect_ok(c, "READ of pages [0, 4) at the end",
			spr_read(b->fd, 0, len, b->scratch)))
		h_expect_same(c, "READ at the end", 0, b->scratch, b->expect,
			      len);
	sig = spr_copy_safe(b->scratch, b->map, len);
	if (sig)
		spr_check_fail(c, "reading pages [0, 4) at the end raised %s",
			       spr_signame(sig));
	else
		h_expect_same(c, "mapping at the end", 0, b->scratch,
			      b->expect, len);
	h_expect_read(c, "Free page 8 at the end", b->map + 8 * SPR_PAGE_SIZE,
		      SIGBUS, 0);
}

static void h_bad_ioctls(struct spr_check *c, const struct h_opts *o)
{
	struct h_bad b = { 0 };
	__u64 rng = o->seed;

	b.scratch = h_guarded_alloc(H_SCRATCH, &b.guard);
	if (!b.scratch) {
		spr_check_fail(c, "scratch buffer: %s", spr_errname(errno));
		return;
	}
	if (!h_open_map(c, H_BAD_PAGES, &b.fd, &b.map))
		return;
	spr_rand_fill(&rng, b.expect, sizeof(b.expect));
	if (!h_expect_ok(c, "USE [0, 4)", spr_use(b.fd, 0, 4)) ||
	    !h_expect_ok(c, "WRITE [0, 4 pages)",
			 spr_write(b.fd, 0, sizeof(b.expect), b.expect)))
		goto out;
	h_bad_numbers(c, &b);
	h_bad_pointers(c, &b);
	h_bad_buffers(c, &b);
	h_bad_spans(c, &b);
	h_bad_offsets(c, &b);
	h_before_mmap(c, &b);
	h_read_limit(c, &b);
	h_bad_intact(c, &b);
out:
	close(b.fd);
}

/* What hostile_fuzz works on. */
struct h_fuzz {
	int fd;
	const __u8 *map;
	__u8 *scratch;	/* H_SCRATCH bytes, then a guard page */
	__u8 *guard;
	__u64 rng;
};

/* Every argument type of the driver, and raw bytes. */
union h_arg {
	struct spr_test_span span;
	struct spr_test_io io;
	struct spr_test_states states;
	struct spr_test_counters counters;
	__u64 nr;
	__u8 bytes[64];
};

static const unsigned long h_cmds[] = {
	SPR_TEST_IOC_USE, SPR_TEST_IOC_STOP, SPR_TEST_IOC_WRITE,
	SPR_TEST_IOC_READ, SPR_TEST_IOC_ZERO, SPR_TEST_IOC_STATES,
	SPR_TEST_IOC_COUNTERS, SPR_TEST_IOC_SCAN,
};

/*
 * Ioctl types that the VFS serves itself for any file before the driver
 * sees them (FIGETBSZ, FIOCLEX, FIONBIO, FIFREEZE, FS_IOC_*, FICLONE...):
 * their results are not the driver's to answer for.
 */
static bool h_vfs_type(unsigned int type)
{
	return type == 0 || type == 'T' || type == 'X' || type == 'f' ||
	       type == 0x94 || type == 0x15;
}

/* Half valid numbers; the rest, unknown numbers of ours or of anyone. */
static unsigned long h_fuzz_cmd(struct h_fuzz *f)
{
	__u64 r = spr_rand(&f->rng);
	unsigned long cmd;

	switch (r % 4) {
	case 0:
	case 1:
		return h_cmds[(r >> 8) % H_ARRAY_SIZE(h_cmds)];
	case 2:
		return _IOC((r >> 8) & 3, SPR_TEST_IOC_MAGIC, (r >> 16) & 0xff,
			    (r >> 24) & _IOC_SIZEMASK);
	default:
		cmd = (__u32)(r >> 32);
		if (h_vfs_type(_IOC_TYPE(cmd)))
			cmd ^= (unsigned long)(_IOC_TYPE(cmd) ^
					       SPR_TEST_IOC_MAGIC)
			       << _IOC_TYPESHIFT;
		return cmd;
	}
}

/*
 * A user buffer: none, ours (which READ and STATES may fill: the guard page
 * stops them at its end), the read-only mapping, unreachable ones.
 */
static __u64 h_fuzz_addr(struct h_fuzz *f)
{
	__u64 r = spr_rand(&f->rng);

	switch (r % 8) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)f->scratch;
	case 2:
		return (uintptr_t)f->scratch + (r >> 8) % H_SCRATCH;
	case 3:
		return (uintptr_t)f->map +
		       (r >> 8) % (H_FUZZ_PAGES * SPR_PAGE_SIZE);
	case 4:
		return (uintptr_t)f->guard;
	case 5:
		return SPR_KERNEL_ADDR + (r >> 8) % (1 << 30);
	case 6:
		return SPR_NONCANONICAL_ADDR;
	default:
		/* Above the user address space: never one of ours. */
		return spr_rand(&f->rng) | (1ULL << 63);
	}
}

/* Page indices and byte counts: mostly near the range, sometimes huge. */
static __u64 h_fuzz_num(struct h_fuzz *f, __u64 near)
{
	__u64 r = spr_rand(&f->rng);

	switch (r % 4) {
	case 0:
		return spr_rand(&f->rng);
	case 1:
		return UINT64_MAX - (r >> 8) % 4;
	default:
		return (r >> 8) % near;
	}
}

static void h_fuzz_arg(struct h_fuzz *f, unsigned long cmd, union h_arg *a)
{
	const __u64 pages = H_FUZZ_PAGES + 2;
	const __u64 bytes = (H_FUZZ_PAGES + 1) * SPR_PAGE_SIZE;

	spr_rand_fill(&f->rng, a->bytes, sizeof(a->bytes));
	/* A quarter stays garbage; the rest looks valid, more or less. */
	if (!spr_rand_below(&f->rng, 4))
		return;
	switch (cmd) {
	case SPR_TEST_IOC_USE:
	case SPR_TEST_IOC_STOP:
		a->span.start = h_fuzz_num(f, pages);
		a->span.end = h_fuzz_num(f, pages);
		break;
	case SPR_TEST_IOC_WRITE:
	case SPR_TEST_IOC_READ:
	case SPR_TEST_IOC_ZERO:
		a->io.offset = h_fuzz_num(f, bytes);
		a->io.size = h_fuzz_num(f, 2 * SPR_READ_MAX);
		a->io.buf = h_fuzz_addr(f);
		break;
	case SPR_TEST_IOC_STATES:
		a->states.start = h_fuzz_num(f, pages);
		a->states.count = h_fuzz_num(f, pages);
		a->states.buf = h_fuzz_addr(f);
		break;
	case SPR_TEST_IOC_SCAN:
		a->nr = h_fuzz_num(f, 4096);
		break;
	}
}

/* The argument pointer: mostly the argument, sometimes unreachable. */
static void *h_fuzz_argp(struct h_fuzz *f, union h_arg *a)
{
	switch (spr_rand_below(&f->rng, 16)) {
	case 0:
		return NULL;
	case 1:
		return f->guard;
	case 2:
		return f->guard - 4;
	case 3:
		return (void *)SPR_KERNEL_ADDR;
	default:
		return a;
	}
}

/* After the storm, the states, the counters and the mapping agree. */
static void h_fuzz_consistent(struct spr_check *c, struct h_fuzz *f)
{
	__u64 count[3] = { 0 };
	struct spr_test_counters ctr;
	__u8 states[H_FUZZ_PAGES];
	unsigned int i;
	__u8 byte;
	int sig;

	if (!h_expect_ok(c, "STATES after fuzzing",
			 spr_states(f->fd, 0, H_FUZZ_PAGES, states)) ||
	    !h_expect_ok(c, "COUNTERS after fuzzing",
			 spr_counters(f->fd, &ctr)))
		return;
	for (i = 0; i < H_FUZZ_PAGES; i++) {
		if (states[i] > SPR_TEST_IN_USE) {
			spr_check_fail(c, "page %u in state %u after fuzzing",
				       i, states[i]);
			return;
		}
		count[states[i]]++;
		sig = spr_copy_safe(&byte, f->map + i * SPR_PAGE_SIZE, 1);
		if (sig != (states[i] == SPR_TEST_FREE ? SIGBUS : 0))
			spr_check_fail(c, "page %u in state %u after fuzzing: reading it %s",
				       i, states[i],
				       sig ? spr_signame(sig) : "gave data");
	}
	if (ctr.nr_pages != H_FUZZ_PAGES ||
	    ctr.free != count[SPR_TEST_FREE] ||
	    ctr.available != count[SPR_TEST_AVAILABLE] ||
	    ctr.in_use != count[SPR_TEST_IN_USE])
		spr_check_fail(c,
			       "COUNTERS nr_pages %llu free %llu available %llu in_use %llu, STATES %llu %llu %llu of %d",
			       ctr.nr_pages,
			       ctr.free,
			       ctr.available,
			       ctr.in_use,
			       count[0],
			       count[1],
			       count[2], H_FUZZ_PAGES);
}

/* Random numbers, random arguments: 0, or one of the documented errnos. */
static void h_fuzz(struct spr_check *c, const struct h_opts *o)
{
	const unsigned int errs = SPR_ERR(EINVAL) | SPR_ERR(EFAULT) |
				  SPR_ERR(ENOTTY) | SPR_ERR(ESRCH) |
				  SPR_ERR(ENOMEM);
	struct h_fuzz f = { .rng = o->seed };
	union h_arg arg, sent;
	unsigned long cmd;
	unsigned int i;
	void *argp;
	int ret;

	f.scratch = h_guarded_alloc(H_SCRATCH, &f.guard);
	if (!f.scratch) {
		spr_check_fail(c, "scratch buffer: %s", spr_errname(errno));
		return;
	}
	if (!h_open_map(c, H_FUZZ_PAGES, &f.fd, &f.map))
		return;
	for (i = 0; i < o->fuzz_iters && spr_now_ms() < h_deadline; i++) {
		cmd = h_fuzz_cmd(&f);
		h_fuzz_arg(&f, cmd, &arg);
		argp = h_fuzz_argp(&f, &arg);
		sent = arg;
		ret = ioctl(f.fd, cmd, argp);
		if (!ret || (ret == -1 && spr_errno_in(errno, errs)))
			continue;
		spr_check_fail(c,
			       "iteration %u: ioctl 0x%lx, argument %p {0x%llx, 0x%llx, 0x%llx}: returned %d, %s",
			       i, cmd, argp, sent.io.offset,
			       sent.io.size,
			       sent.io.buf, ret,
			       ret == -1 ? spr_errname(errno) : "no errno");
	}
	spr_metric("hostile_fuzz_iterations", i);
	h_fuzz_consistent(c, &f);
	close(f.fd);
}

struct h_case {
	const char *name;
	void (*run)(struct spr_check *c, const struct h_opts *o);
	int limit_ms;
};

static const struct h_case h_cases[] = {
	{ "hostile_second_mmap", h_second_mmap, H_CASE_MS },
	{ "hostile_writable_mmap", h_writable_mmap, H_CASE_MS },
	{ "hostile_fork", h_fork, H_CASE_MS },
	{ "hostile_munmap_remap", h_munmap_remap, H_CASE_MS },
	{ "hostile_foreign_mmap", h_foreign_mmap, H_CASE_MS },
	{ "hostile_kill9", h_kill9, H_LONG_CASE_MS },
	{ "hostile_bad_ioctls", h_bad_ioctls, H_CASE_MS },
	{ "hostile_fuzz", h_fuzz, H_LONG_CASE_MS },
};

/* Run one case in a process of its own, bounded by its limit and @end. */
static void h_run(const struct h_case *hc, const struct h_opts *o,
		  __s64 end)
{
	struct spr_check *c = spr_shared_alloc(sizeof(*c));
	__s64 now = spr_now_ms();
	char how[64];
	int status;
	pid_t pid;

	if (!c) {
		spr_check_one(false, hc->name, "shared memory: %s",
			      spr_errname(errno));
		return;
	}
	spr_check_init(c, "%s", hc->name);
	if (now + hc->limit_ms < end)
		end = now + hc->limit_ms;
	if (end - now < 2000) {
		spr_check_fail(c, "not run: the time budget is spent");
		spr_check_end(c);
		return;
	}
	pid = spr_fork();
	if (!pid) {
		/* A second to spare for the case's own clean-up. */
		h_deadline = end - 1000;
		hc->run(c, o);
		_exit(0);
	}
	if (pid < 0) {
		spr_check_fail(c, "fork: %s", spr_errname(errno));
	} else if (spr_wait_pid(pid, end, &status)) {
		spr_kill_reap(pid, &status);
		spr_check_fail(c, "timed out after %lld ms",
			       spr_now_ms() - now);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		spr_check_fail(c, "the case's process: %s",
			       spr_status_str(status, how, sizeof(how)));
	}
	spr_check_end(c);
	munmap(c, sizeof(*c));
}

static void h_usage(const char *msg)
{
	fprintf(stderr,
		"usage: spr_hostile [-i fuzz iterations (20000)] [-k kill -9 rounds (3)]\n"
		"                   [-s seed (1)] [-t time budget s (45)] [-c case]\n");
	spr_check_one(false, "hostile_options", "%s", msg);
	exit(1);
}

static void h_parse(int argc, char **argv, struct h_opts *o)
{
	unsigned int i;
	__u64 v;
	int opt;

	while ((opt = getopt(argc, argv, "i:k:s:t:c:")) != -1) {
		switch (opt) {
		case 'i':
			if (!spr_parse_u64(optarg, 0, 100000000, &v))
				h_usage("-i: 0 to 100000000 iterations");
			o->fuzz_iters = v;
			break;
		case 'k':
			if (!spr_parse_u64(optarg, 1, 1000, &v))
				h_usage("-k: 1 to 1000 rounds");
			o->kill_reps = v;
			break;
		case 's':
			if (!spr_parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				h_usage("-s: a 64-bit seed");
			break;
		case 't':
			if (!spr_parse_u64(optarg, 5, 3600, &v))
				h_usage("-t: 5 to 3600 seconds");
			o->budget_s = v;
			break;
		case 'c':
			for (i = 0; i < H_ARRAY_SIZE(h_cases); i++)
				if (!strcmp(optarg, h_cases[i].name))
					break;
			if (i == H_ARRAY_SIZE(h_cases))
				h_usage("-c: not a case name");
			o->only = optarg;
			break;
		default:
			h_usage("unknown option");
		}
	}
	if (optind != argc)
		h_usage("unexpected argument");
}

int main(int argc, char **argv)
{
	struct h_opts o = {
		.fuzz_iters = 20000, .kill_reps = 3, .seed = 1, .budget_s = 45,
	};
	__s64 end;
	unsigned int i;

	h_parse(argc, argv, &o);
	end = spr_now_ms() + o.budget_s * 1000LL;
	signal(SIGPIPE, SIG_IGN);
	if (spr_probe_init()) {
		spr_check_one(false, "hostile_setup", "sigaction: %s",
			      spr_errname(errno));
		return 1;
	}
	for (i = 0; i < H_ARRAY_SIZE(h_cases); i++)
		if (!o.only || !strcmp(o.only, h_cases[i].name))
			h_run(&h_cases[i], &o, end);
	return spr_nr_failed ? 1 : 0;
}
