// SPDX-License-Identifier: GPL-2.0
/*
 * spr_faults: drive /dev/spr_test while the kernel's fault injection fails
 * memory allocations of the test's own worker processes, and check that
 * every failure is a clean -ENOMEM that leaves the range consistent.
 *
 * The parent sets up failslab and fail_page_alloc in debugfs with
 * task-filter=Y, so that only tasks whose /proc/<pid>/make-it-fail is 1 see
 * failures, and restores every value it changed at the end. Each worker
 * opens and maps a range, makes all of its own memory resident (mlockall
 * and a touch of every buffer) so that no page fault of its own needs an
 * allocation, and only then writes 1 to make-it-fail. Under injection it
 * runs rounds of USE of a random span, then on success WRITE and READ back
 * (also through the mapping) and STOP:
 *
 *  - USE and READ (its kernel bounce buffer) may fail, with ENOMEM only;
 *    WRITE, ZERO, STOP, STATES, COUNTERS and SCAN allocate nothing and
 *    must not fail at all;
 *  - after a failed USE, the In-use pages are a prefix of the span, the
 *    page where it stopped is Free, STATES and COUNTERS agree, every In-use
 *    or Available page reads with its bytes through the mapping and every
 *    Free page raises SIGBUS (within a second: another worker's SCAN
 *    clears a slot just before it unmaps the page).
 *
 * Then it writes 0 to make-it-fail, and the range must work fully again.
 *
 * Workers print nothing: under injection a write to a pipe could fail. They
 * record their checks and figures in memory shared with the parent, which
 * prints them.
 */
#define _GNU_SOURCE
#include <getopt.h>

#include "spr_user.h"

#define F_PAGES		256	/* pages of each worker's range */
#define F_BYTES		(F_PAGES * SPR_PAGE_SIZE)
#define F_MAX_SPAN	8	/* pages in one USE */
#define F_SCAN_MAX	64	/* pages in one SCAN under injection */
#define F_FREE_PROBES	16	/* Free pages outside the span to probe */
#define F_MAX_PROCS	16
#define F_RECOVER_MS	15000	/* kept for the phase after injection */
#define F_GRACE_MS	5000	/* past the budget, before workers are killed */
#define F_ZAP_TRIES	100	/* 10 ms apart: a concurrent zap is done by then */
#define F_DEBUGFS	"/sys/kernel/debug"
#define F_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Phases that a worker finished, in f_result.done. */
#define F_DONE_SETUP	1u
#define F_DONE_INJECT	2u
#define F_DONE_RECOVER	4u

struct f_opts {
	unsigned int procs;
	unsigned int rounds;
	unsigned int probability;
	__u64 seed;
	unsigned int budget_s;
};

/* What a worker reports, in memory shared with the parent. */
struct f_result {
	struct spr_check setup;
	struct spr_check inject;
	struct spr_check recover;
	unsigned int done;
	__u64 rounds;
	__u64 ops;		/* ioctls made under injection */
	__u64 use_ok;
	__u64 use_enomem;
	__u64 read_enomem;
};

struct f_worker {
	struct f_result *res;
	int fd;
	int fail_fd;		/* /proc/self/make-it-fail, opened early */
	bool injecting;
	const __u8 *map;
	__u8 *shadow;		/* F_PAGES pages: what the range should hold */
	__u8 *buf;		/* F_PAGES pages, for payloads */
	__u8 *got;		/* F_PAGES pages, for what we read */
	__u8 states[F_PAGES];
	__u64 rng;
};

/* Pages [start, end) of a range. */
struct f_span {
	size_t start;
	size_t end;
};

/* A debugfs file of fault injection: the value we set, and the old one. */
struct f_knob {
	const char *dir;
	const char *name;
	const char *value;	/* NULL: the probability of -P */
	char saved[32];
	bool changed;
};

/* Set in this order; restored in the reverse one, probability first. */
static struct f_knob f_knobs[] = {
	{ .dir = "failslab", .name = "task-filter", .value = "Y" },
	{ .dir = "failslab", .name = "interval", .value = "1" },
	{ .dir = "failslab", .name = "times", .value = "-1" },
	{ .dir = "failslab", .name = "space", .value = "0" },
	{ .dir = "failslab", .name = "verbose", .value = "0" },
	{ .dir = "failslab", .name = "ignore-gfp-wait", .value = "N" },
	{ .dir = "fail_page_alloc", .name = "task-filter", .value = "Y" },
	{ .dir = "fail_page_alloc", .name = "interval", .value = "1" },
	{ .dir = "fail_page_alloc", .name = "times", .value = "-1" },
	{ .dir = "fail_page_alloc", .name = "space", .value = "0" },
	{ .dir = "fail_page_alloc", .name = "verbose", .value = "0" },
	{ .dir = "fail_page_alloc", .name = "ignore-gfp-wait", .value = "N" },
	{ .dir = "fail_page_alloc", .name = "ignore-gfp-highmem", .value = "N" },
	{ .dir = "fail_page_alloc", .name = "min-order", .value = "0" },
	{ .dir = "failslab", .name = "probability", .value = NULL },
	{ .dir = "fail_page_alloc", .name = "probability", .value = NULL },
};

/* SIGTERM or SIGINT: stop, kill the workers, restore debugfs. */
static int f_interrupted;

static void f_on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&f_interrupted, 1, __ATOMIC_RELAXED);
}

static bool f_stopping(void)
{
	return __atomic_load_n(&f_interrupted, __ATOMIC_RELAXED);
}

static size_t f_bytes(size_t pages)
{
	return pages * SPR_PAGE_SIZE;
}

/* Count an ioctl made under injection; pass its result on. */
static int f_op(struct f_worker *w, int ret)
{
	if (w->injecting)
		w->res->ops++;
	return ret;
}

/* @ret must be 0: the call allocates nothing that may fail. */
static bool f_expect_ok(struct spr_check *c, const char *what, int ret)
{
	if (!ret)
		return true;
	if (ret > 0)
		return spr_check_fail(c, "%s: returned %d, expected success",
				      what, ret);
	return spr_check_fail(c, "%s: %s, expected success", what,
			      spr_errname(-ret));
}

/* @ret must be 0 or -ENOMEM; false only for anything else. */
static bool f_expect_ok_or_enomem(struct spr_check *c, const char *what,
				  int ret)
{
	if (!ret || ret == -ENOMEM)
		return true;
	if (ret > 0)
		return spr_check_fail(c, "%s: returned %d, expected success or ENOMEM",
				      what, ret);
	return spr_check_fail(c, "%s: %s, expected success or ENOMEM", what,
			      spr_errname(-ret));
}

/*
 * @len bytes at byte @off of the range, read into w->got by @how, must be
 * the shadow's.
 */
static bool f_compare(struct f_worker *w, struct spr_check *c,
		      const char *what, const char *how, size_t off,
		      size_t len)
{
	size_t i = spr_first_diff(w->got, w->shadow + off, len);

	if (i == len)
		return true;
	return spr_check_fail(c,
			      "%s: %s: byte %zu (page %zu +%zu) expected 0x%02x got 0x%02x",
			      what, how, off + i, (off + i) / SPR_PAGE_SIZE,
			      (off + i) % SPR_PAGE_SIZE, w->shadow[off + i],
			      w->got[i]);
}

/*
 * An In-use page that was Available has kept its bytes; one that the
 * shrinker freed since it was stopped comes back zeroed. Nothing else is
 * right. The shadow follows whichever it was.
 */
static bool f_adopt_page(struct f_worker *w, struct spr_check *c,
			 const char *what, size_t page)
{
	size_t off = f_bytes(page);
	__u8 *got = w->got + off;
	int sig = spr_copy_safe(got, w->map + off, SPR_PAGE_SIZE);

	if (sig)
		return spr_check_fail(c, "%s: page %zu is In use but reading it raised %s",
				      what, page, spr_signame(sig));
	if (!memcmp(got, w->shadow + off, SPR_PAGE_SIZE))
		return true;
	if (spr_is_zero(got, SPR_PAGE_SIZE)) {
		memset(w->shadow + off, 0, SPR_PAGE_SIZE);
		return true;
	}
	memmove(w->got, got, SPR_PAGE_SIZE);
	return f_compare(w, c, what, "In-use page, neither its bytes nor zeros",
			 off, SPR_PAGE_SIZE);
}

/*
 * STATES of the whole range into w->states, checked against COUNTERS taken
 * before and after it. The shrinker (another worker's SCAN, or kswapd) may
 * turn Available pages Free meanwhile, and nothing else here changes them:
 * so In use, and Free + Available, must agree exactly, and the Available
 * pages STATES saw must lie between the two counts.
 */
static bool f_snapshot(struct f_worker *w, struct spr_check *c,
		       const char *what, struct spr_test_counters *ctr)
{
	struct spr_test_counters before;
	__u64 count[3] = { 0 };
	size_t page;
	int ret;

	ret = f_op(w, spr_counters(w->fd, &before));
	if (!f_expect_ok(c, "COUNTERS", ret))
		return false;
	ret = f_op(w, spr_states(w->fd, 0, F_PAGES, w->states));
	if (!f_expect_ok(c, "STATES of the whole range", ret))
		return false;
	ret = f_op(w, spr_counters(w->fd, ctr));
	if (!f_expect_ok(c, "COUNTERS", ret))
		return false;
	for (page = 0; page < F_PAGES; page++) {
		if (w->states[page] > SPR_TEST_IN_USE)
			return spr_check_fail(c, "%s: page %zu in state %u",
					      what, page, w->states[page]);
		count[w->states[page]]++;
	}
	if (ctr->nr_pages != F_PAGES || before.nr_pages != F_PAGES ||
	    ctr->free + ctr->available + ctr->in_use != ctr->nr_pages ||
	    before.in_use != ctr->in_use ||
	    count[SPR_TEST_IN_USE] != ctr->in_use ||
	    count[SPR_TEST_AVAILABLE] > before.available ||
	    count[SPR_TEST_AVAILABLE] < ctr->available ||
	    count[SPR_TEST_FREE] + count[SPR_TEST_AVAILABLE] !=
	    ctr->free + ctr->available)
		return spr_check_fail(c,
				      "%s: COUNTERS before free %llu available %llu in_use %llu, after %llu %llu %llu of %llu, STATES %llu %llu %llu of %d",
				      what, before.free, before.available,
				      before.in_use, ctr->free,
				      ctr->available, ctr->in_use,
				      ctr->nr_pages, count[SPR_TEST_FREE],
				      count[SPR_TEST_AVAILABLE],
				      count[SPR_TEST_IN_USE], F_PAGES);
	return true;
}

/*
 * A Free page raises SIGBUS; nothing but our USE can map it again. Another
 * worker's SCAN may have freed it a moment ago: the shrinker clears the
 * slot before it zaps a batch, and only frees the page after the zap. So a
 * page may still read for that long, and no longer.
 */
static bool f_probe_free(struct f_worker *w, struct spr_check *c,
			 const char *what, size_t page)
{
	size_t off = f_bytes(page);
	unsigned int tries;
	int sig;

	memset(w->shadow + off, 0, SPR_PAGE_SIZE);
	for (tries = 0; tries < F_ZAP_TRIES; tries++) {
		sig = spr_copy_safe(w->got, w->map + off, 1);
		if (sig)
			break;
		spr_sleep_ms(10);
	}
	if (sig == SIGBUS)
		return true;
	if (sig)
		return spr_check_fail(c,
				      "%s: page %zu is Free but reading it raised %s, expected SIGBUS",
				      what, page, spr_signame(sig));
	return spr_check_fail(c, "%s: page %zu is Free but read 0x%02x for %u ms, expected SIGBUS",
			      what, page, w->got[0], F_ZAP_TRIES * 10);
}

/* An Available page reads with its bytes, unless it was freed just now. */
static bool f_check_available(struct f_worker *w, struct spr_check *c,
			      const char *what, size_t page)
{
	size_t off = f_bytes(page);
	__u8 state;
	int sig, ret;

	sig = spr_copy_safe(w->got, w->map + off, SPR_PAGE_SIZE);
	if (!sig)
		return f_compare(w, c, what, "Available page", off,
				 SPR_PAGE_SIZE);
	ret = f_op(w, spr_states(w->fd, page, 1, &state));
	if (!f_expect_ok(c, "STATES of one page", ret))
		return false;
	if (sig == SIGBUS && state == SPR_TEST_FREE) {
		memset(w->shadow + off, 0, SPR_PAGE_SIZE);
		return true;
	}
	return spr_check_fail(c,
			      "%s: page %zu is Available but reading it raised %s (now in state %u)",
			      what, page, spr_signame(sig), state);
}

/*
 * USE stopped at a page it could not allocate or map: the pages before it
 * are In use, that page and the rest are as they were, and the whole range
 * is consistent.
 */
static bool f_check_failed_use(struct f_worker *w, struct spr_check *c,
			       struct f_span s)
{
	const char *what = "after a failed USE";
	size_t page, k, outside = 0, probes = F_FREE_PROBES;
	struct spr_test_counters ctr;
	__u8 st;

	if (!f_snapshot(w, c, what, &ctr))
		return false;
	for (k = s.start; k < s.end && w->states[k] == SPR_TEST_IN_USE; k++)
		;
	if (k == s.end)
		return spr_check_fail(c, "%s [%zu, %zu): every page of the span is In use",
				      what, s.start, s.end);
	if (w->states[k] != SPR_TEST_FREE)
		return spr_check_fail(c,
				      "%s [%zu, %zu): page %zu, the first not In use, is in state %u, expected Free",
				      what, s.start, s.end, k, w->states[k]);
	for (page = 0; page < F_PAGES; page++) {
		st = w->states[page];
		if (st == SPR_TEST_IN_USE && (page < s.start || page >= k))
			return spr_check_fail(c,
					      "%s [%zu, %zu): page %zu is In use, but only [%zu, %zu) may be",
					      what, s.start, s.end, page,
					      s.start, k);
		if (st == SPR_TEST_FREE && (page < s.start || page >= s.end))
			outside++;
	}
	for (page = 0; page < F_PAGES; page++) {
		st = w->states[page];
		if (st == SPR_TEST_IN_USE && !f_adopt_page(w, c, what, page))
			return false;
		if (st == SPR_TEST_AVAILABLE &&
		    !f_check_available(w, c, what, page))
			return false;
		if (st != SPR_TEST_FREE)
			continue;
		/* Every Free page of the span; a sample of the others. */
		if (page < s.start || page >= s.end) {
			if (spr_rand_below(&w->rng, outside--) >= probes) {
				memset(w->shadow + f_bytes(page), 0,
				       SPR_PAGE_SIZE);
				continue;
			}
			probes--;
		}
		if (!f_probe_free(w, c, what, page))
			return false;
	}
	return true;
}

/* After a USE that worked: every page of the span is In use, with its bytes. */
static bool f_check_used(struct f_worker *w, struct spr_check *c,
			 const char *what, struct f_span s)
{
	size_t page;
	int ret;

	ret = f_op(w, spr_states(w->fd, s.start, s.end - s.start,
				 w->states + s.start));
	if (!f_expect_ok(c, "STATES of the span", ret))
		return false;
	for (page = s.start; page < s.end; page++) {
		if (w->states[page] != SPR_TEST_IN_USE)
			return spr_check_fail(c,
					      "%s: page %zu in state %u after USE [%zu, %zu), expected %u",
					      what, page, w->states[page],
					      s.start, s.end, SPR_TEST_IN_USE);
		if (!f_adopt_page(w, c, what, page))
			return false;
	}
	return true;
}

/*
 * READ [off, off + len) back in pieces of at most a page, so that the
 * driver's bounce buffer is a kmalloc(): a larger one falls back to
 * vmalloc(), whose failures print a stack dump. A piece whose buffer
 * cannot be allocated fails with ENOMEM and is not compared.
 */
static bool f_read_back(struct f_worker *w, struct spr_check *c,
			const char *what, size_t off, size_t len)
{
	size_t n;
	int ret;

	while (len) {
		n = spr_min(len, 1 + spr_rand_below(&w->rng, SPR_PAGE_SIZE));
		ret = f_op(w, spr_read(w->fd, off, n, w->got));
		if (ret == -ENOMEM)
			w->res->read_enomem++;
		else if (!f_expect_ok(c, "READ", ret) ||
			 !f_compare(w, c, what, "READ", off, n))
			return false;
		off += n;
		len -= n;
	}
	return true;
}

/* Sometimes ZERO, then WRITE a payload anywhere in the span; check it all. */
static bool f_write_read(struct f_worker *w, struct spr_check *c,
			 const char *what, struct f_span s)
{
	size_t base = f_bytes(s.start), len = f_bytes(s.end - s.start);
	size_t off, size;
	int sig, ret;

	if (!spr_rand_below(&w->rng, 4)) {
		off = spr_rand_below(&w->rng, len);
		size = 1 + spr_rand_below(&w->rng, len - off);
		ret = f_op(w, spr_zero(w->fd, base + off, size));
		if (!f_expect_ok(c, "ZERO", ret))
			return false;
		memset(w->shadow + base + off, 0, size);
	}
	off = spr_rand_below(&w->rng, len);
	size = 1 + spr_rand_below(&w->rng, len - off);
	spr_rand_fill(&w->rng, w->buf, size);
	ret = f_op(w, spr_write(w->fd, base + off, size, w->buf));
	if (!f_expect_ok(c, "WRITE", ret))
		return false;
	memcpy(w->shadow + base + off, w->buf, size);
	sig = spr_copy_safe(w->got, w->map + base, len);
	if (sig)
		return spr_check_fail(c, "%s: %s reading In-use pages [%zu, %zu)",
				      what, spr_signame(sig), s.start, s.end);
	return f_compare(w, c, what, "mapping", base, len) &&
	       f_read_back(w, c, what, base, len);
}

/* Let the shrinker free some Available pages, so that USE allocates. */
static bool f_scan(struct f_worker *w, struct spr_check *c)
{
	__u64 nr = 1 + spr_rand_below(&w->rng, F_SCAN_MAX);

	return f_expect_ok(c, "SCAN", f_op(w, spr_scan(w->fd, &nr)));
}

/* One round under injection: USE a span, use it if we got it, STOP it. */
static bool f_round(struct f_worker *w, struct spr_check *c)
{
	size_t len = 1 + spr_rand_below(&w->rng, F_MAX_SPAN);
	struct f_span s;
	char what[48];
	int ret;

	if (!spr_rand_below(&w->rng, 8) && !f_scan(w, c))
		return false;
	s.start = spr_rand_below(&w->rng, F_PAGES - len + 1);
	s.end = s.start + len;
	snprintf(what, sizeof(what), "round %llu, USE [%zu, %zu)",
		 w->res->rounds, s.start, s.end);
	ret = f_op(w, spr_use(w->fd, s.start, s.end));
	if (!f_expect_ok_or_enomem(c, what, ret))
		return false;
	if (ret) {
		w->res->use_enomem++;
		if (!f_check_failed_use(w, c, s))
			return false;
	} else {
		w->res->use_ok++;
		if (!f_check_used(w, c, what, s) ||
		    !f_write_read(w, c, what, s))
			return false;
	}
	/* Failed or not, the span is ours to give back. */
	return f_expect_ok(c, "STOP", f_op(w, spr_stop(w->fd, s.start, s.end)));
}

/* Write "0" or "1" to our make-it-fail; 0 or -errno. */
static int f_make_it_fail(struct f_worker *w, bool on)
{
	ssize_t n = pwrite(w->fail_fd, on ? "1" : "0", 1, 0);

	if (n == 1) {
		w->injecting = on;
		return 0;
	}
	return n < 0 ? -errno : -EIO;
}

/*
 * Before injection: open, map, and fault in everything this process will
 * touch, the range's page tables included: USE of the whole range makes
 * the kernel allocate them, and STOP and SCAN free the pages but not the
 * page tables, so that reading a Free page allocates nothing either.
 */
static bool f_worker_setup(struct f_worker *w, struct spr_check *c)
{
	struct spr_test_counters ctr;
	__u64 nr = 1 << 20;
	unsigned int tries;
	int ret;

	w->fd = open(SPR_TEST_DEVICE, O_RDWR);
	if (w->fd < 0)
		return spr_check_fail(c, "open %s: %s", SPR_TEST_DEVICE,
				      spr_errname(errno));
	w->map = spr_map(w->fd, F_PAGES);
	if (!w->map)
		return spr_check_fail(c, "mmap of %d pages: %s", F_PAGES,
				      spr_errname(errno));
	w->fail_fd = open("/proc/self/make-it-fail", O_WRONLY);
	if (w->fail_fd < 0)
		return spr_check_fail(c, "open /proc/self/make-it-fail: %s",
				      spr_errname(errno));
	w->shadow = malloc(F_BYTES);
	w->buf = malloc(F_BYTES);
	w->got = malloc(F_BYTES);
	if (!w->shadow || !w->buf || !w->got)
		return spr_check_fail(c, "out of memory for buffers");
	if (spr_probe_init())
		return spr_check_fail(c, "sigaction: %s", spr_errname(errno));
	if (!f_expect_ok(c, "USE of the whole range before injection",
			 spr_use(w->fd, 0, F_PAGES)) ||
	    !f_expect_ok(c, "STOP of the whole range before injection",
			 spr_stop(w->fd, 0, F_PAGES)) ||
	    !f_expect_ok(c, "SCAN before injection", spr_scan(w->fd, &nr)))
		return false;
	/* Whatever another worker's scan left, the bytes are zeros. */
	memset(w->shadow, 0, F_BYTES);
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		return spr_check_fail(c, "mlockall: %s", spr_errname(errno));
	memset(w->buf, 0x5a, F_BYTES);
	memset(w->got, 0xa5, F_BYTES);
	memset(w->states, 0, sizeof(w->states));
	/* The vDSO's data page, and each ioctl's path, once. */
	spr_now_ms();
	for (tries = 0; tries < 2; tries++) {
		ret = spr_counters(w->fd, &ctr);
		if (!ret)
			ret = spr_states(w->fd, 0, F_PAGES, w->states);
		if (!f_expect_ok(c, "COUNTERS and STATES before injection",
				 ret))
			return false;
	}
	if (ctr.nr_pages != F_PAGES || ctr.in_use)
		return spr_check_fail(c,
				      "before injection: nr_pages %llu in_use %llu, expected %d and 0",
				      ctr.nr_pages, ctr.in_use, F_PAGES);
	ret = f_make_it_fail(w, true);
	if (ret)
		return spr_check_fail(c, "writing 1 to /proc/self/make-it-fail: %s",
				      spr_errname(-ret));
	return true;
}

/* Injection is off: everything works again, and the shrinker frees it all. */
static void f_recover(struct f_worker *w, struct spr_check *c)
{
	const char *what = "after injection";
	struct spr_test_counters before, ctr;
	unsigned int tries;
	size_t page;
	__u64 nr;
	int ret, sig;

	if (!f_expect_ok(c, "USE of the whole range", spr_use(w->fd, 0, F_PAGES)))
		return;
	if (!f_check_used(w, c, what, (struct f_span){ 0, F_PAGES }))
		return;
	spr_rand_fill(&w->rng, w->buf, F_BYTES);
	if (!f_expect_ok(c, "WRITE of the whole range",
			 spr_write(w->fd, 0, F_BYTES, w->buf)))
		return;
	memcpy(w->shadow, w->buf, F_BYTES);
	ret = spr_read_all(w->fd, 0, F_BYTES, w->got);
	if (!f_expect_ok(c, "READ of the whole range", ret) ||
	    !f_compare(w, c, what, "READ", 0, F_BYTES))
		return;
	sig = spr_copy_safe(w->got, w->map, F_BYTES);
	if (sig) {
		spr_check_fail(c, "%s: %s reading the whole range", what,
			       spr_signame(sig));
		return;
	}
	if (!f_compare(w, c, what, "mapping", 0, F_BYTES) ||
	    !f_expect_ok(c, "COUNTERS", spr_counters(w->fd, &before)) ||
	    !f_expect_ok(c, "STOP of the whole range",
			 spr_stop(w->fd, 0, F_PAGES)))
		return;
	/*
	 * Another worker's scan may hold a lock we need, or have freed one of
	 * our pages without having counted it yet: try again.
	 */
	for (tries = 0; tries < 50; tries++) {
		nr = 1 << 20;
		if (!f_expect_ok(c, "SCAN", spr_scan(w->fd, &nr)) ||
		    !f_expect_ok(c, "COUNTERS", spr_counters(w->fd, &ctr)))
			return;
		if (ctr.free == F_PAGES &&
		    ctr.shrinker_reclaimed - before.shrinker_reclaimed >= F_PAGES)
			break;
		spr_sleep_ms(20);
	}
	/* Each of our pages was counted by whichever scan freed it. */
	if (ctr.free != F_PAGES || ctr.available || ctr.in_use ||
	    ctr.shrinker_reclaimed - before.shrinker_reclaimed < F_PAGES) {
		spr_check_fail(c,
			       "%s: STOP and SCAN of everything left free %llu available %llu in_use %llu; shrinker_reclaimed grew by %llu, expected %d or more",
			       what, ctr.free, ctr.available, ctr.in_use,
			       ctr.shrinker_reclaimed -
			       before.shrinker_reclaimed, F_PAGES);
		return;
	}
	for (page = 0; page < F_PAGES; page += F_PAGES / F_FREE_PROBES)
		if (!f_probe_free(w, c, what, page))
			return;
}

static int f_worker_main(unsigned int id, const struct f_opts *o,
			 struct f_result *res, __s64 deadline)
{
	struct f_worker w = {
		.res = res, .fd = -1, .fail_fd = -1,
		.rng = o->seed * 1000003 + id,
	};
	unsigned int tries;
	int ret = 0;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (!f_worker_setup(&w, &res->setup))
		return 1;
	res->done |= F_DONE_SETUP;
	while (res->rounds < o->rounds && spr_check_ok(&res->inject) &&
	       spr_now_ms() < deadline) {
		f_round(&w, &res->inject);
		res->rounds++;
	}
	/* The write allocates nothing, but be stubborn about it. */
	for (tries = 0; tries < 100; tries++) {
		ret = f_make_it_fail(&w, false);
		if (!ret)
			break;
	}
	if (ret) {
		spr_check_fail(&res->inject, "writing 0 to /proc/self/make-it-fail: %s",
			       spr_errname(-ret));
		return 1;
	}
	res->done |= F_DONE_INJECT;
	f_recover(&w, &res->recover);
	res->done |= F_DONE_RECOVER;
	munlockall();
	munmap((void *)w.map, F_BYTES);
	close(w.fd);
	close(w.fail_fd);
	return 0;
}

static int f_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Put back every value we changed, probability first. */
static void f_restore(struct spr_check *c)
{
	char path[128];
	unsigned int i;
	int ret;

	for (i = F_ARRAY_SIZE(f_knobs); i-- > 0;) {
		struct f_knob *k = &f_knobs[i];

		if (!k->changed)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", F_DEBUGFS, k->dir,
			 k->name);
		ret = spr_write_file(path, k->saved);
		if (ret)
			spr_check_fail(c, "writing back \"%s\" to %s: %s",
				       k->saved, path, spr_errname(-ret));
		else
			k->changed = false;
	}
}

/* Save each value and set ours; on a failure, put back what we changed. */
static bool f_setup_injection(const struct f_opts *o)
{
	struct spr_check c;
	char path[128], prob[16];
	unsigned int i;
	int ret = 0;

	spr_check_init(&c, "faults_setup");
	if (access(F_DEBUGFS "/fail_page_alloc", F_OK)) {
		spr_check_fail(&c, "no fault injection in this kernel");
		return spr_check_end(&c);
	}
	snprintf(prob, sizeof(prob), "%u", o->probability);
	for (i = 0; i < F_ARRAY_SIZE(f_knobs); i++) {
		struct f_knob *k = &f_knobs[i];
		const char *value = k->value ? k->value : prob;

		snprintf(path, sizeof(path), "%s/%s/%s", F_DEBUGFS, k->dir,
			 k->name);
		ret = f_read_text(path, k->saved, sizeof(k->saved));
		if (ret) {
			spr_check_fail(&c, "reading %s: %s", path,
				       spr_errname(-ret));
			break;
		}
		/* Marked first: a failed write may have changed it. */
		k->changed = true;
		ret = spr_write_file(path, value);
		if (ret) {
			spr_check_fail(&c, "writing \"%s\" to %s: %s", value,
				       path, spr_errname(-ret));
			break;
		}
	}
	if (ret)
		f_restore(&c);
	return spr_check_end(&c);
}

/* The parent's view of a worker. */
struct f_child {
	pid_t pid;
	bool reaped;
	int status;
	const char *why;	/* why we killed it, if we did */
};

/* Wait for every worker until @deadline, or a signal; kill the rest. */
static void f_wait(struct f_child *ch, unsigned int n, __s64 deadline)
{
	unsigned int i, left = n;
	const char *why = NULL;
	pid_t ret;

	for (i = 0; i < n; i++)
		if (ch[i].pid <= 0) {
			ch[i].reaped = true;
			left--;
		}
	while (left && !why) {
		for (i = 0; i < n; i++) {
			if (ch[i].reaped)
				continue;
			ret = waitpid(ch[i].pid, &ch[i].status, WNOHANG);
			if (ret < 0 && errno != EINTR)
				ch[i].why = "waitpid failed";
			if (ret == ch[i].pid || ch[i].why) {
				ch[i].reaped = true;
				left--;
			}
		}
		if (f_stopping())
			why = "spr_faults was told to stop by a signal";
		else if (spr_now_ms() >= deadline)
			why = "it was still running at the end of the time budget";
		else if (left)
			spr_sleep_ms(10);
	}
	for (i = 0; why && i < n; i++) {
		if (ch[i].reaped)
			continue;
		ch[i].why = why;
		spr_kill_reap(ch[i].pid, &ch[i].status);
		ch[i].reaped = true;
	}
}

/* A check that the worker did not get to the end of is no pass. */
static void f_end_phase(struct spr_check *c, const struct f_result *res,
			unsigned int phase, unsigned int id)
{
	if (spr_check_ok(c) && !(res->done & phase))
		spr_check_fail(c, "not finished: the worker stopped early (see faults_w%u_exit)",
			       id);
	spr_check_end(c);
}

static void f_report(struct f_child *ch, struct f_result *res, unsigned int n)
{
	struct spr_check c;
	unsigned int i;
	char how[64];

	for (i = 0; i < n; i++) {
		f_end_phase(&res[i].setup, &res[i], F_DONE_SETUP, i);
		f_end_phase(&res[i].inject, &res[i], F_DONE_INJECT, i);
		f_end_phase(&res[i].recover, &res[i], F_DONE_RECOVER, i);
		spr_check_init(&c, "faults_w%u_exit", i);
		if (ch[i].pid <= 0)
			spr_check_fail(&c, "fork: %s",
				       spr_errname(-ch[i].pid));
		else if (ch[i].why)
			spr_check_fail(&c, "killed: %s", ch[i].why);
		else if (!WIFEXITED(ch[i].status) ||
			 WEXITSTATUS(ch[i].status))
			spr_check_fail(&c, "%s",
				       spr_status_str(ch[i].status, how,
						      sizeof(how)));
		spr_check_end(&c);
	}
}

static void f_usage(const char *msg)
{
	fprintf(stderr,
		"usage: spr_faults [-p processes (2)] [-n rounds (2000)] [-P probability %% (20)]\n"
		"                  [-s seed (1)] [-t time budget s (120)]\n");
	spr_check_one(false, "faults_options", "%s", msg);
	exit(1);
}

static void f_parse(int argc, char **argv, struct f_opts *o)
{
	__u64 v;
	int opt;

	while ((opt = getopt(argc, argv, "p:n:P:s:t:")) != -1) {
		switch (opt) {
		case 'p':
			if (!spr_parse_u64(optarg, 1, F_MAX_PROCS, &v))
				f_usage("-p: 1 to 16 processes");
			o->procs = v;
			break;
		case 'n':
			if (!spr_parse_u64(optarg, 1, 10000000, &v))
				f_usage("-n: 1 to 10000000 rounds");
			o->rounds = v;
			break;
		case 'P':
			if (!spr_parse_u64(optarg, 1, 100, &v))
				f_usage("-P: a probability of 1 to 100 %");
			o->probability = v;
			break;
		case 's':
			if (!spr_parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				f_usage("-s: a 64-bit seed");
			break;
		case 't':
			if (!spr_parse_u64(optarg, 30, 3600, &v))
				f_usage("-t: 30 to 3600 seconds");
			o->budget_s = v;
			break;
		default:
			f_usage("unknown option");
		}
	}
	if (optind != argc)
		f_usage("unexpected argument");
}

/* Figures over all workers, and the checks that they tested something. */
static void f_totals(const struct f_result *res, unsigned int n, int fd,
		     const struct spr_test_counters *before, __s64 start)
{
	__u64 rounds = 0, ops = 0, use_ok = 0, use_enomem = 0, read_enomem = 0;
	struct spr_test_counters after;
	unsigned long long failed;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		rounds += res[i].rounds;
		ops += res[i].ops;
		use_ok += res[i].use_ok;
		use_enomem += res[i].use_enomem;
		read_enomem += res[i].read_enomem;
	}
	spr_check_one(use_enomem > 0, "faults_some_injected",
		      "no USE failed in %llu rounds (%llu ioctls, %llu READs failed): did injection reach the workers?",
		      rounds, ops, read_enomem);
	spr_check_one(use_ok > 0, "faults_some_use_ok",
		      "no USE worked in %llu rounds, %llu failed with ENOMEM",
		      rounds, use_enomem);
	/*
	 * Each allocation of a page and its metadata that failed was counted
	 * by the range and must have made that USE fail; the other ENOMEMs
	 * of USE come from mapping the page.
	 */
	ret = spr_counters(fd, &after);
	failed = ret ? 0 : after.shrinker_alloc_failed -
			   before->shrinker_alloc_failed;
	spr_check_one(!ret && failed <= use_enomem,
		      "faults_alloc_failed_reported",
		      "COUNTERS: %s; shrinker_alloc_failed grew by %llu, but USE failed %llu times",
		      spr_errname(-ret), failed, use_enomem);
	spr_metric("faults_injected", use_enomem + read_enomem);
	spr_metric("faults_ops", ops);
	spr_metric("faults_use_ok", use_ok);
	spr_metric("faults_use_enomem", use_enomem);
	spr_metric("faults_read_enomem", read_enomem);
	spr_metric("faults_alloc_failed", failed);
	spr_metric("faults_rounds", rounds);
	spr_metric("faults_elapsed_ms", spr_now_ms() - start);
}

int main(int argc, char **argv)
{
	struct f_opts o = {
		.procs = 2, .rounds = 2000, .probability = 20, .seed = 1,
		.budget_s = 120,
	};
	struct f_child ch[F_MAX_PROCS] = { 0 };
	struct sigaction sa = { .sa_handler = f_on_signal };
	struct spr_test_counters before;
	struct spr_check restore;
	struct f_result *res;
	__s64 start = spr_now_ms(), deadline;
	unsigned int i = 0;
	int fd, ret;

	f_parse(argc, argv, &o);
	deadline = start + o.budget_s * 1000LL;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!f_setup_injection(&o))
		return 1;

	fd = open(SPR_TEST_DEVICE, O_RDWR);
	ret = fd < 0 ? -errno : spr_counters(fd, &before);
	res = spr_shared_alloc(o.procs * sizeof(*res));
	if (spr_check_one(!ret && res, "faults_open",
			  "open and COUNTERS of %s: %s; shared memory %s",
			  SPR_TEST_DEVICE, spr_errname(-ret),
			  res ? "ok" : "failed")) {
		for (i = 0; i < o.procs; i++) {
			spr_check_init(&res[i].setup, "faults_w%u_setup", i);
			spr_check_init(&res[i].inject, "faults_w%u_injected",
				       i);
			spr_check_init(&res[i].recover, "faults_w%u_recover",
				       i);
		}
		for (i = 0; i < o.procs && !f_stopping(); i++) {
			ch[i].pid = spr_fork();
			if (!ch[i].pid) {
				close(fd);
				_exit(f_worker_main(i, &o, &res[i],
						    deadline - F_RECOVER_MS));
			}
			if (ch[i].pid < 0)
				ch[i].pid = -errno;
		}
		f_wait(ch, i, deadline + F_GRACE_MS);
	}

	/* First thing once the workers are gone, whatever happened. */
	spr_check_init(&restore, "faults_restore");
	f_restore(&restore);
	spr_check_end(&restore);
	if (ret || !res)
		return 1;
	f_report(ch, res, i);
	f_totals(res, i, fd, &before, start);
	if (i < o.procs)
		spr_check_one(false, "faults_interrupted",
			      "stopped by a signal after %u of %u workers",
			      i, o.procs);
	spr_dump_debugfs("stats");
	close(fd);
	return spr_nr_failed ? 1 : 0;
}
