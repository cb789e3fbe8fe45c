// SPDX-License-Identifier: GPL-2.0
/*
 * spr_workload: several processes use /dev/spr_test the way binder clients
 * use their buffers, then two rounds of memory pressure reclaim what they
 * left Available.
 *
 * Each worker maps a range of its own and, round after round, takes a span
 * of pages (USE), fills part of it (ZERO, WRITE), checks every byte of the
 * span through the mapping and through READ against a shadow copy of the
 * range, keeps a few spans in flight and hands the oldest back (STOP).
 *
 * Pressure 1: every page outside the held spans is made Available with known
 * bytes, and the parent writes 2 to /proc/sys/vm/drop_caches. At least 90%
 * of those pages must be reclaimed, the held pages must keep their bytes, a
 * reclaimed page must fault with SIGBUS and come back zeroed when used.
 *
 * Pressure 2: the same set-up, then a memory hog makes the kernel's own
 * reclaim call the shrinker. The hog stops once the shrinker has reclaimed
 * half of what was Available, well before the OOM killer would run: the host
 * counts an OOM report in the kernel log as a failure.
 *
 * Parent and workers talk over two pipes per worker: the worker writes 'R'
 * when it is ready for a pressure round, the parent answers 'G' when the
 * round is over, and the worker ends with its figures (struct wl_results).
 */
#define _GNU_SOURCE
#include <getopt.h>

#include "spr_user.h"

#define WL_MAX_SPAN	64	/* pages in one span: a large transaction */
#define WL_MAX_HELD	4	/* spans in flight at once */
#define WL_REUSE_MAX	16	/* reclaimed pages used again, to see zeros */
#define WL_HOG_CHUNK	(1024 * 1024UL)
#define WL_HOG_MAX_MS	30000
#define WL_GRACE_MS	3000	/* for a worker's last words past the budget */

struct wl_opts {
	unsigned int procs;
	unsigned int rounds;
	unsigned int pages;
	__u64 seed;
	unsigned int budget_s;
	unsigned int reserve_mib;
};

/* Pages [start, end) of a range. */
struct wl_span {
	size_t start;
	size_t end;
};

/* A worker's figures, sent to the parent at the end. */
struct wl_results {
	__u64 pages_used;
	__u64 pages_made_available;
	__u64 reclaimed[2];	/* this range's pages, per pressure round */
	__u64 bytes_verified;
};

struct wl_worker {
	unsigned int id;
	const struct wl_opts *o;
	int fd;
	const __u8 *map;
	size_t nr_pages;
	__u8 *shadow;	/* what every byte of the range should be */
	__u8 *buf;		/* WL_MAX_SPAN pages, for payloads */
	__u8 *got;		/* WL_MAX_SPAN pages, for what we read */
	__u8 *states;	/* one per page, from the STATES ioctl */
	__u64 *stop_mark;	/* per page: shrinker_reclaimed before STOP */
	struct wl_span held[WL_MAX_HELD];	/* oldest first */
	unsigned int nr_held;
	__u64 rng;
	int up;			/* to the parent */
	int down;		/* from the parent */
	__s64 deadline;
	struct wl_results res;
};

/* The parent's view of a worker. */
struct wl_child {
	pid_t pid;
	int up;
	int down;
	bool gone;		/* out of the protocol: dead or killed */
	const char *why;	/* why we killed it, if we did */
};

static size_t wl_bytes(size_t pages)
{
	return pages * SPR_PAGE_SIZE;
}

static __u64 wl_held_pages(const struct wl_worker *w)
{
	__u64 pages = 0;
	unsigned int i;

	for (i = 0; i < w->nr_held; i++)
		pages += w->held[i].end - w->held[i].start;
	return pages;
}

static bool wl_page_held(const struct wl_worker *w, size_t page)
{
	unsigned int i;

	for (i = 0; i < w->nr_held; i++)
		if (page >= w->held[i].start && page < w->held[i].end)
			return true;
	return false;
}

/* Compare the @len bytes in w->got with the shadow of [off, off + len). */
static bool wl_compare(struct wl_worker *w, struct spr_check *c,
		       const char *what, const char *how, size_t off,
		       size_t len)
{
	size_t i = spr_first_diff(w->got, w->shadow + off, len);

	if (i < len)
		return spr_check_fail(c,
			"%s: %s: byte %zu (page %zu +%zu) expected 0x%02x got 0x%02x",
			what, how, off + i, (off + i) / SPR_PAGE_SIZE,
			(off + i) % SPR_PAGE_SIZE, w->shadow[off + i],
			w->got[i]);
	w->res.bytes_verified += len;
	return true;
}

/* Check [off, off + len) against the shadow, through the mapping and READ. */
static bool wl_verify(struct wl_worker *w, struct spr_check *c,
		      const char *what, size_t off, size_t len)
{
	while (len) {
		size_t n = spr_min(len, SPR_READ_MAX);
		int sig = spr_copy_safe(w->got, w->map + off, n);
		int ret;

		if (sig)
			return spr_check_fail(c,
				"%s: %s reading bytes [%zu, %zu) of the mapping",
				what, spr_signame(sig), off, off + n);
		if (!wl_compare(w, c, what, "mapping", off, n))
			return false;
		ret = spr_read(w->fd, off, n, w->got);
		if (ret)
			return spr_check_fail(c, "%s: READ [%zu, %zu): %s",
					      what, off, off + n,
					      spr_errname(-ret));
		if (!wl_compare(w, c, what, "READ", off, n))
			return false;
		off += n;
		len -= n;
	}
	return true;
}

static bool wl_get_states(struct wl_worker *w, struct spr_check *c,
			  const char *what, size_t start, size_t end)
{
	int ret = spr_states(w->fd, start, end - start, w->states + start);

	if (ret)
		return spr_check_fail(c, "%s: STATES [%zu, %zu): %s", what,
				      start, end, spr_errname(-ret));
	return true;
}

/*
 * After USE, a page that was Available has kept its bytes, and one that the
 * shrinker freed in the meantime comes back zeroed: nothing else is right.
 * The shadow follows whichever it was. Returns -1 on a failure, else 1 if
 * the page lost its bytes to the shrinker, 0 if not.
 */
static int wl_adopt_page(struct wl_worker *w, struct spr_check *c,
			 const char *what, size_t page)
{
	size_t off = wl_bytes(page);
	int sig = spr_copy_safe(w->got, w->map + off, SPR_PAGE_SIZE);
	bool zeroed;

	if (sig) {
		spr_check_fail(c, "%s: page %zu is In use but reading it raised %s",
			       what, page, spr_signame(sig));
		return -1;
	}
	zeroed = spr_is_zero(w->got, SPR_PAGE_SIZE) &&
		 !spr_is_zero(w->shadow + off, SPR_PAGE_SIZE);
	if (zeroed)
		memset(w->shadow + off, 0, SPR_PAGE_SIZE);
	if (!wl_compare(w, c, what, "page after USE, neither old bytes nor zeros",
			off, SPR_PAGE_SIZE))
		return -1;
	return zeroed;
}

/*
 * USE [start, end) and adopt its pages. A page may come back zeroed only if
 * the shrinker reclaimed something since the page was STOPped:
 * shrinker_reclaimed counts every page it frees, in any range.
 */
static bool wl_use(struct wl_worker *w, struct spr_check *c,
		   const char *what, size_t start, size_t end)
{
	size_t page, zeroed_page = SIZE_MAX;
	struct spr_test_counters after;
	unsigned int tries;
	int ret, zeroed;

	ret = spr_use(w->fd, start, end);
	if (ret)
		return spr_check_fail(c, "%s: USE [%zu, %zu): %s", what, start,
				      end, spr_errname(-ret));
	w->res.pages_used += end - start;
	if (!wl_get_states(w, c, what, start, end))
		return false;
	for (page = start; page < end; page++) {
		if (w->states[page] != SPR_TEST_IN_USE)
			return spr_check_fail(c, "%s: page %zu in state %u after USE, expected %u",
					      what, page, w->states[page],
					      SPR_TEST_IN_USE);
		zeroed = wl_adopt_page(w, c, what, page);
		if (zeroed < 0)
			return false;
		/* The most recently stopped one is the one to check. */
		if (zeroed && (zeroed_page == SIZE_MAX ||
			       w->stop_mark[page] > w->stop_mark[zeroed_page]))
			zeroed_page = page;
	}
	if (zeroed_page == SIZE_MAX)
		return true;
	/* The shrinker counts a page just after freeing it: give it time. */
	for (tries = 0; tries < 3; tries++) {
		ret = spr_counters(w->fd, &after);
		if (ret)
			return spr_check_fail(c, "%s: COUNTERS: %s", what,
					      spr_errname(-ret));
		if (after.shrinker_reclaimed > w->stop_mark[zeroed_page])
			return true;
		spr_sleep_ms(10);
	}
	return spr_check_fail(c,
			      "%s: page %zu came back zeroed from USE, but shrinker_reclaimed stayed at %llu since its STOP",
			      what, zeroed_page,
			      after.shrinker_reclaimed);
}

/* Hand [start, end), all In use, to the shrinker. */
static bool wl_stop(struct wl_worker *w, struct spr_check *c,
		    const char *what, size_t start, size_t end)
{
	struct spr_test_counters ctr;
	size_t page;
	int ret;

	/* Before STOP: no reclaim of these pages can be counted in it. */
	ret = spr_counters(w->fd, &ctr);
	if (!ret)
		ret = spr_stop(w->fd, start, end);
	if (ret)
		return spr_check_fail(c, "%s: COUNTERS and STOP [%zu, %zu): %s",
				      what, start, end, spr_errname(-ret));
	for (page = start; page < end; page++)
		w->stop_mark[page] = ctr.shrinker_reclaimed;
	w->res.pages_made_available += end - start;
	if (!wl_get_states(w, c, what, start, end))
		return false;
	/* Free too: the shrinker may have been quick. */
	for (page = start; page < end; page++)
		if (w->states[page] != SPR_TEST_AVAILABLE &&
		    w->states[page] != SPR_TEST_FREE)
			return spr_check_fail(c,
					      "%s: page %zu in state %u after STOP, expected %u or %u",
					      what, page, w->states[page],
					      SPR_TEST_AVAILABLE,
					      SPR_TEST_FREE);
	return true;
}

/* The oldest transaction is over: check its bytes one last time, STOP it. */
static bool wl_release_oldest(struct wl_worker *w, struct spr_check *c,
			      const char *what)
{
	struct wl_span s = w->held[0];

	w->nr_held--;
	memmove(w->held, w->held + 1, w->nr_held * sizeof(s));
	return wl_verify(w, c, what, wl_bytes(s.start),
			 wl_bytes(s.end - s.start)) &&
	       wl_stop(w, c, what, s.start, s.end);
}

static bool wl_span_is_free(const struct wl_worker *w, struct wl_span s)
{
	unsigned int i;

	for (i = 0; i < w->nr_held; i++)
		if (s.start < w->held[i].end && w->held[i].start < s.end)
			return false;
	return true;
}

/* A random span of 1..WL_MAX_SPAN pages that overlaps no held span. */
static bool wl_pick_span(struct wl_worker *w, struct wl_span *s)
{
	size_t max_len = spr_min(WL_MAX_SPAN, w->nr_pages);
	unsigned int tries;

	for (tries = 0; tries < 16; tries++) {
		size_t len = 1 + spr_rand_below(&w->rng, max_len);

		s->start = spr_rand_below(&w->rng, w->nr_pages - len + 1);
		s->end = s->start + len;
		if (wl_span_is_free(w, *s))
			return true;
	}
	return false;
}

/*
 * A new transaction: take a span, sometimes clear part of it as a reused
 * buffer would be, write a payload at any offset and of any length (so it
 * crosses pages), check the whole span, and hold it.
 */
static bool wl_take_span(struct wl_worker *w, struct spr_check *c,
			 const char *what)
{
	size_t base, len, off, size;
	struct wl_span s;
	int ret;

	/* Ends: with nothing held, any span fits. */
	while (!wl_pick_span(w, &s))
		if (!wl_release_oldest(w, c, what))
			return false;
	if (!wl_use(w, c, what, s.start, s.end))
		return false;
	base = wl_bytes(s.start);
	len = wl_bytes(s.end - s.start);
	if (!spr_rand_below(&w->rng, 4)) {
		off = spr_rand_below(&w->rng, len);
		size = 1 + spr_rand_below(&w->rng, len - off);
		ret = spr_zero(w->fd, base + off, size);
		if (ret)
			return spr_check_fail(c, "%s: ZERO of %zu bytes at %zu: %s",
					      what, size, base + off,
					      spr_errname(-ret));
		memset(w->shadow + base + off, 0, size);
	}
	off = spr_rand_below(&w->rng, len);
	size = 1 + spr_rand_below(&w->rng, len - off);
	spr_rand_fill(&w->rng, w->buf, size);
	ret = spr_write(w->fd, base + off, size, w->buf);
	if (ret)
		return spr_check_fail(c, "%s: WRITE of %zu bytes at %zu: %s",
				      what, size, base + off,
				      spr_errname(-ret));
	memcpy(w->shadow + base + off, w->buf, size);
	if (!wl_verify(w, c, what, base, len))
		return false;
	w->held[w->nr_held++] = s;
	return true;
}

static void wl_rounds(struct wl_worker *w)
{
	struct spr_check c;
	unsigned int round;
	char what[32];

	spr_check_init(&c, "workload_w%u_rounds", w->id);
	for (round = 0; round < w->o->rounds && spr_check_ok(&c); round++) {
		snprintf(what, sizeof(what), "round %u", round);
		/* Transactions end in any order but they do end. */
		if (w->nr_held == WL_MAX_HELD ||
		    (w->nr_held && !spr_rand_below(&w->rng, 3)))
			if (!wl_release_oldest(w, &c, what))
				break;
		wl_take_span(w, &c, what);
	}
	spr_check_end(&c);
}

/*
 * Make every page outside the held spans Available with known bytes: USE,
 * fill, check and STOP, WL_MAX_SPAN pages at a time.
 */
static bool wl_populate(struct wl_worker *w, struct spr_check *c,
			const char *what)
{
	size_t start = 0, end, len;
	int ret;

	while (start < w->nr_pages) {
		if (wl_page_held(w, start)) {
			start++;
			continue;
		}
		for (end = start + 1; end < w->nr_pages &&
		     end - start < WL_MAX_SPAN && !wl_page_held(w, end); end++)
			;
		if (!wl_use(w, c, what, start, end))
			return false;
		len = wl_bytes(end - start);
		spr_rand_fill(&w->rng, w->buf, len);
		ret = spr_write(w->fd, wl_bytes(start), len, w->buf);
		if (ret)
			return spr_check_fail(c, "%s: WRITE of pages [%zu, %zu): %s",
					      what, start, end,
					      spr_errname(-ret));
		memcpy(w->shadow + wl_bytes(start), w->buf, len);
		if (!wl_verify(w, c, what, wl_bytes(start), len) ||
		    !wl_stop(w, c, what, start, end))
			return false;
		start = end;
	}
	return true;
}

/* Nothing can change the held pages; the rest must add up. */
static bool wl_check_counters(struct wl_worker *w, struct spr_check *c,
			      const char *what, struct spr_test_counters *ctr)
{
	unsigned long long held = wl_held_pages(w);
	int ret = spr_counters(w->fd, ctr);

	if (ret)
		return spr_check_fail(c, "%s: COUNTERS: %s", what,
				      spr_errname(-ret));
	if (ctr->nr_pages != w->nr_pages || ctr->in_use != held ||
	    ctr->free + ctr->available + ctr->in_use != ctr->nr_pages)
		return spr_check_fail(c,
			"%s: COUNTERS nr_pages %llu free %llu available %llu in_use %llu; expected nr_pages %zu, in_use %llu, a sum of nr_pages",
			what, ctr->nr_pages,
			ctr->free,
			ctr->available,
			ctr->in_use, w->nr_pages, held);
	if (!ctr->available)
		return spr_check_fail(c, "%s: no page is Available", what);
	if (ctr->shrinker_available < ctr->available)
		return spr_check_fail(c,
				      "%s: shrinker_available %llu is below this range's available %llu",
				      what,
				      ctr->shrinker_available,
				      ctr->available);
	return true;
}

/* Set up pressure round @phase: spans held, every other page Available. */
static bool wl_prepare(struct wl_worker *w, unsigned int phase,
		       struct spr_test_counters *before)
{
	struct spr_check c;
	char what[32];

	snprintf(what, sizeof(what), "pressure %u set-up", phase);
	spr_check_init(&c, "workload_w%u_p%u_setup", w->id, phase);
	/* At least half of the range must be left to the shrinker. */
	while (w->nr_held > 1 && wl_held_pages(w) * 2 > w->nr_pages)
		if (!wl_release_oldest(w, &c, what))
			return spr_check_end(&c);
	if (w->nr_held || wl_take_span(w, &c, what))
		if (wl_populate(w, &c, what))
			wl_check_counters(w, &c, what, before);
	return spr_check_end(&c);
}

/* Tell the parent that we are ready, and wait until its round is over. */
static bool wl_handshake(struct wl_worker *w, unsigned int phase)
{
	char msg = 'R';
	char name[64];
	int ret;

	spr_write_all(w->up, &msg, 1);
	ret = spr_read_full(w->down, &msg, 1, w->deadline);
	if (!ret && msg == 'G')
		return true;
	snprintf(name, sizeof(name), "workload_w%u_p%u_reclaim", w->id, phase);
	return spr_check_one(false, name, "no go from the parent after pressure round %u: %s",
			     phase, ret ? spr_errname(-ret) : "bad message");
}

/*
 * The shrinker reclaimed pages (shrinker_reclaimed counts all ranges, so it
 * grew by at least what this range lost), and after drop_caches, at least
 * 90% of this range's Available pages: it may skip a page whose locks are
 * contended, but nothing contends here.
 */
static void wl_check_reclaim(struct wl_worker *w, unsigned int phase,
			     const struct spr_test_counters *before)
{
	unsigned long long avail = before->available, dropped, reclaimed;
	struct spr_test_counters after;
	struct spr_check c;
	char key[64];
	int ret;

	spr_check_init(&c, "workload_w%u_p%u_reclaim", w->id, phase);
	ret = spr_counters(w->fd, &after);
	if (ret) {
		spr_check_fail(&c, "COUNTERS: %s", spr_errname(-ret));
		spr_check_end(&c);
		return;
	}
	dropped = avail > after.available ? avail - after.available : 0;
	reclaimed = after.shrinker_reclaimed - before->shrinker_reclaimed;
	w->res.reclaimed[phase - 1] = dropped;
	snprintf(key, sizeof(key), "workload_w%u_p%u_available", w->id, phase);
	spr_metric(key, avail);
	snprintf(key, sizeof(key), "workload_w%u_p%u_reclaimed", w->id, phase);
	spr_metric(key, dropped);

	if (after.available > avail || after.in_use != before->in_use ||
	    after.free + after.available + after.in_use != after.nr_pages)
		spr_check_fail(&c,
			       "COUNTERS went from available %llu in_use %llu to free %llu available %llu in_use %llu",
			       avail, before->in_use,
			       after.free,
			       after.available,
			       after.in_use);
	else if (!reclaimed)
		spr_check_fail(&c,
			       "shrinker_reclaimed stayed at %llu; this range had %llu Available pages, now %llu",
			       after.shrinker_reclaimed,
			       avail, after.available);
	else if (reclaimed < dropped)
		spr_check_fail(&c,
			       "shrinker_reclaimed grew by %llu but this range lost %llu Available pages",
			       reclaimed, dropped);
	else if (phase == 1 && dropped * 10 < avail * 9)
		spr_check_fail(&c,
			       "%llu of %llu Available pages reclaimed, expected at least 90%% (%llu); shrinker_reclaimed grew by %llu",
			       dropped, avail, (avail * 9 + 9) / 10,
			       reclaimed);
	spr_check_end(&c);
}

/* The spans in flight kept every byte, whatever the shrinker did. */
static void wl_check_held(struct wl_worker *w, unsigned int phase)
{
	struct spr_check c;
	unsigned int i;
	size_t page;
	char what[48];

	spr_check_init(&c, "workload_w%u_p%u_held_intact", w->id, phase);
	for (i = 0; i < w->nr_held && spr_check_ok(&c); i++) {
		struct wl_span s = w->held[i];

		snprintf(what, sizeof(what), "pressure %u, held span %u",
			 phase, i);
		if (!wl_get_states(w, &c, what, s.start, s.end))
			break;
		for (page = s.start; page < s.end; page++)
			if (w->states[page] != SPR_TEST_IN_USE) {
				spr_check_fail(&c, "%s: page %zu in state %u, expected %u",
					       what, page, w->states[page],
					       SPR_TEST_IN_USE);
				break;
			}
		if (spr_check_ok(&c))
			wl_verify(w, &c, what, wl_bytes(s.start),
				  wl_bytes(s.end - s.start));
	}
	spr_check_end(&c);
}

/*
 * A page outside the held spans: Free means the shrinker zapped it, so
 * reading it must raise SIGBUS; Available means it still shows its bytes.
 */
static bool wl_check_page(struct wl_worker *w, struct spr_check *c,
			  const char *what, size_t page)
{
	size_t off = wl_bytes(page);
	unsigned int state = w->states[page];
	int sig = spr_copy_safe(w->got, w->map + off, SPR_PAGE_SIZE);

	if (state == SPR_TEST_AVAILABLE && sig == SIGBUS) {
		/* Maybe reclaimed since STATES, by a late shrinker run. */
		if (!wl_get_states(w, c, what, page, page + 1))
			return false;
		state = w->states[page];
	}
	switch (state) {
	case SPR_TEST_FREE:
		/* If it is used again, it must read back zeroed. */
		memset(w->shadow + off, 0, SPR_PAGE_SIZE);
		if (sig == SIGBUS)
			return true;
		if (sig)
			return spr_check_fail(c,
					      "%s: page %zu is Free but reading it raised %s, expected SIGBUS",
					      what, page, spr_signame(sig));
		return spr_check_fail(c,
				      "%s: page %zu is Free but reading it returned data (byte 0: 0x%02x), expected SIGBUS",
				      what, page, w->got[0]);
	case SPR_TEST_AVAILABLE:
		if (sig)
			return spr_check_fail(c,
					      "%s: page %zu is Available but reading it raised %s",
					      what, page, spr_signame(sig));
		return wl_compare(w, c, what, "Available page", off,
				  SPR_PAGE_SIZE);
	default:
		return spr_check_fail(c, "%s: page %zu in state %u, expected %u or %u",
				      what, page, state, SPR_TEST_FREE,
				      SPR_TEST_AVAILABLE);
	}
}

static void wl_check_pages(struct wl_worker *w, unsigned int phase)
{
	struct spr_check c;
	size_t page;
	char what[32];

	snprintf(what, sizeof(what), "pressure %u", phase);
	spr_check_init(&c, "workload_w%u_p%u_pages", w->id, phase);
	if (wl_get_states(w, &c, what, 0, w->nr_pages))
		/* Past a failure too: zero the shadow of every Free page. */
		for (page = 0; page < w->nr_pages; page++)
			if (!wl_page_held(w, page))
				wl_check_page(w, &c, what, page);
	spr_check_end(&c);
}

/* Reclaimed pages come back zeroed when they are used again. */
static void wl_check_reuse(struct wl_worker *w, unsigned int phase)
{
	unsigned int reused = 0;
	struct spr_check c;
	size_t page, off;
	char what[48];

	snprintf(what, sizeof(what), "pressure %u, reclaimed page", phase);
	spr_check_init(&c, "workload_w%u_p%u_reuse_zero", w->id, phase);
	/* w->states is fresh from wl_check_pages(). */
	for (page = 0; page < w->nr_pages && reused < WL_REUSE_MAX &&
	     spr_check_ok(&c); page++) {
		if (wl_page_held(w, page) || w->states[page] != SPR_TEST_FREE)
			continue;
		off = wl_bytes(page);
		memset(w->shadow + off, 0, SPR_PAGE_SIZE);
		if (wl_use(w, &c, what, page, page + 1) &&
		    wl_verify(w, &c, what, off, SPR_PAGE_SIZE))
			wl_stop(w, &c, what, page, page + 1);
		reused++;
	}
	if (spr_check_ok(&c) && !reused)
		spr_check_fail(&c, "no page of this range was reclaimed");
	spr_check_end(&c);
}

static bool wl_worker_open(struct wl_worker *w)
{
	size_t span_bytes = wl_bytes(WL_MAX_SPAN);
	struct spr_test_counters ctr;
	struct spr_check c;
	int ret;

	spr_check_init(&c, "workload_w%u_map", w->id);
	w->fd = open(SPR_TEST_DEVICE, O_RDWR);
	if (w->fd < 0) {
		spr_check_fail(&c, "open %s: %s", SPR_TEST_DEVICE,
			       spr_errname(errno));
		return spr_check_end(&c);
	}
	w->shadow = calloc(w->nr_pages, SPR_PAGE_SIZE);
	w->buf = malloc(span_bytes);
	w->got = malloc(span_bytes);
	w->states = calloc(w->nr_pages, 1);
	w->stop_mark = calloc(w->nr_pages, sizeof(*w->stop_mark));
	if (!w->shadow || !w->buf || !w->got || !w->states || !w->stop_mark) {
		spr_check_fail(&c, "out of memory for the shadow of %zu pages",
			       w->nr_pages);
		return spr_check_end(&c);
	}
	w->map = spr_map(w->fd, w->nr_pages);
	if (!w->map) {
		spr_check_fail(&c, "mmap of %zu pages: %s", w->nr_pages,
			       spr_errname(errno));
		return spr_check_end(&c);
	}
	ret = spr_counters(w->fd, &ctr);
	if (ret)
		spr_check_fail(&c, "COUNTERS: %s", spr_errname(-ret));
	else if (ctr.nr_pages != w->nr_pages || ctr.free != w->nr_pages)
		spr_check_fail(&c,
			       "fresh range has nr_pages %llu free %llu, expected %zu and %zu",
			       ctr.nr_pages, ctr.free, w->nr_pages,
			       w->nr_pages);
	return spr_check_end(&c);
}

static int wl_worker_main(struct wl_worker *w)
{
	struct spr_test_counters before;
	unsigned int phase;
	bool ready;

	if (!wl_worker_open(w))
		return 1;
	wl_rounds(w);
	for (phase = 1; phase <= 2; phase++) {
		ready = wl_prepare(w, phase, &before);
		if (!wl_handshake(w, phase))
			return 1;
		/* A failed set-up has said why; its figures mean nothing. */
		if (!ready)
			continue;
		wl_check_reclaim(w, phase, &before);
		wl_check_held(w, phase);
		wl_check_pages(w, phase);
		if (phase == 1)
			wl_check_reuse(w, phase);
	}
	spr_write_all(w->up, (const char *)&w->res, sizeof(w->res));
	return spr_nr_failed ? 1 : 0;
}

/* Start worker @id; its pipes are set up in @ch. */
static bool wl_spawn(struct wl_child *ch, unsigned int id,
		     const struct wl_opts *o, int parent_fd, __s64 deadline)
{
	int up[2], down[2];
	unsigned int i;

	if (pipe(up))
		return false;
	if (pipe(down)) {
		close(up[0]);
		close(up[1]);
		return false;
	}
	ch[id].pid = spr_fork();
	if (!ch[id].pid) {
		struct wl_worker w = {
			.id = id, .o = o, .nr_pages = o->pages,
			.rng = o->seed * 1000003 + id,
			.up = up[1], .down = down[0], .deadline = deadline,
		};

		close(up[0]);
		close(down[1]);
		close(parent_fd);
		for (i = 0; i < id; i++) {
			close(ch[i].up);
			close(ch[i].down);
		}
		_exit(wl_worker_main(&w));
	}
	close(up[1]);
	close(down[0]);
	ch[id].up = up[0];
	ch[id].down = down[1];
	if (ch[id].pid < 0) {
		close(up[0]);
		close(down[1]);
		return false;
	}
	return true;
}

/* Give up on a worker: kill it now, reap it at the end. */
static void wl_drop(struct wl_child *ch, const char *why)
{
	if (ch->gone)
		return;
	ch->gone = true;
	ch->why = why;
	kill(ch->pid, SIGKILL);
}

/* Every worker still in the game must be ready for pressure round @phase. */
static void wl_wait_ready(struct wl_child *ch, unsigned int n,
			  unsigned int phase, __s64 deadline)
{
	struct spr_check c;
	unsigned int i;
	char msg;
	int ret;

	spr_check_init(&c, "workload_p%u_ready", phase);
	for (i = 0; i < n; i++) {
		if (ch[i].gone) {
			spr_check_fail(&c, "worker %u was gone already", i);
			continue;
		}
		ret = spr_read_full(ch[i].up, &msg, 1, deadline);
		if (!ret && msg == 'R')
			continue;
		spr_check_fail(&c, "worker %u %s before pressure round %u", i,
			       ret == -ETIMEDOUT ? "was not ready within the time budget" :
			       "quit (see its checks)", phase);
		wl_drop(&ch[i], "it was not ready for a pressure round");
	}
	spr_check_end(&c);
}

static void wl_go(struct wl_child *ch, unsigned int n)
{
	unsigned int i;
	char msg = 'G';

	for (i = 0; i < n; i++)
		if (!ch[i].gone && write(ch[i].down, &msg, 1) != 1)
			wl_drop(&ch[i], "it closed its pipe");
}

static void wl_reclaimed_metric(const char *key,
				const struct spr_test_counters *before,
				int fd)
{
	struct spr_test_counters after;

	if (!spr_counters(fd, &after))
		spr_metric(key, after.shrinker_reclaimed -
				before->shrinker_reclaimed);
}

static void wl_pressure_drop_caches(int fd)
{
	struct spr_test_counters before;
	int ret;

	ret = spr_counters(fd, &before);
	if (!ret)
		ret = spr_write_file("/proc/sys/vm/drop_caches", "2");
	spr_check_one(!ret, "workload_drop_caches",
		      "COUNTERS, or writing 2 to /proc/sys/vm/drop_caches: %s",
		      spr_errname(-ret));
	if (!ret)
		wl_reclaimed_metric("workload_p1_shrinker_reclaimed", &before,
				    fd);
}

/*
 * The hog: allocate and touch memory, 1 MiB at a time, until the shrinker
 * has reclaimed @goal pages more than @reclaimed0 (read through @fd, which
 * works from any process), @max_mib are allocated, or malloc fails.
 * Stopping at the goal keeps the kernel out of the OOM killer. The hog is
 * the OOM killer's favourite all the same, should it run.
 */
static void wl_hog(int fd, __u64 reclaimed0, __u64 goal,
		   __u64 max_mib, __u64 *mib)
{
	struct spr_test_counters ctr;
	size_t off;
	__u64 i;
	__u8 *p;

	spr_write_file("/proc/self/oom_score_adj", "1000");
	for (i = 0; i < max_mib; i++) {
		if (!spr_counters(fd, &ctr) &&
		    ctr.shrinker_reclaimed - reclaimed0 >= goal)
			break;
		p = malloc(WL_HOG_CHUNK);
		if (!p)
			break;
		for (off = 0; off < WL_HOG_CHUNK; off += SPR_PAGE_SIZE)
			p[off] = i | 1;
		/* The stores are the point: the compiler must keep them. */
		spr_barrier();
		__atomic_store_n(mib, i + 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}

static void wl_pressure_hog(int fd, const struct wl_opts *o,
			    __s64 deadline)
{
	__u64 total_mib = spr_meminfo_kb("MemTotal") / 1024;
	__u64 *mib = spr_shared_alloc(sizeof(*mib));
	struct spr_test_counters before;
	struct spr_check c;
	__s64 hog_start, hog_deadline;
	__u64 max_mib, goal;
	char how[64];
	int status, ret;
	pid_t pid;

	spr_check_init(&c, "workload_hog");
	max_mib = total_mib > o->reserve_mib ? total_mib - o->reserve_mib : 0;
	ret = spr_counters(fd, &before);
	if (ret || !mib || !max_mib) {
		spr_check_fail(&c,
			       "cannot start: COUNTERS %s, shared memory %s, MemTotal %llu MiB with a reserve of %u MiB",
			       spr_errname(-ret), mib ? "ok" : "failed",
			       total_mib, o->reserve_mib);
		spr_check_end(&c);
		return;
	}
	goal = before.shrinker_available / 2 ?: 1;
	hog_start = spr_now_ms();
	hog_deadline = hog_start + WL_HOG_MAX_MS;
	if (hog_deadline > deadline)
		hog_deadline = deadline;
	if (hog_deadline - hog_start < 1000) {
		spr_check_fail(&c, "not run: the time budget is spent");
		spr_check_end(&c);
		return;
	}
	pid = spr_fork();
	if (!pid) {
		/* Keep the device, none of the workers' pipes. */
		if (dup2(fd, 3) == 3)
			close_range(4, ~0U, 0);
		wl_hog(3, before.shrinker_reclaimed, goal, max_mib, mib);
	}
	if (pid < 0) {
		spr_check_fail(&c, "fork: %s", spr_errname(errno));
	} else if (spr_wait_pid(pid, hog_deadline, &status)) {
		spr_kill_reap(pid, &status);
		spr_check_fail(&c, "still running after %lld ms, at %llu MiB: killed",
			       spr_now_ms() - hog_start,
			       *mib);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		spr_check_fail(&c, "%s after %llu MiB of %llu (the OOM killer? see dmesg)",
			       spr_status_str(status, how, sizeof(how)),
			       *mib,
			       max_mib);
	}
	spr_metric("workload_hog_mib", *mib);
	spr_metric("workload_hog_goal_pages", goal);
	wl_reclaimed_metric("workload_p2_shrinker_reclaimed", &before, fd);
	spr_check_end(&c);
}

/* Gather each worker's figures and exit status. */
static void wl_collect(struct wl_child *ch, unsigned int n, __s64 deadline,
		       struct wl_results *sum)
{
	struct wl_results res;
	struct spr_check c;
	unsigned int i;
	char how[64];
	int status;

	for (i = 0; i < n; i++) {
		spr_check_init(&c, "workload_w%u_exit", i);
		if (!ch[i].gone &&
		    !spr_read_full(ch[i].up, &res, sizeof(res), deadline)) {
			sum->pages_used += res.pages_used;
			sum->pages_made_available += res.pages_made_available;
			sum->reclaimed[0] += res.reclaimed[0];
			sum->reclaimed[1] += res.reclaimed[1];
			sum->bytes_verified += res.bytes_verified;
		}
		if (spr_wait_pid(ch[i].pid, deadline, &status)) {
			wl_drop(&ch[i], "it was still running at the end of the time budget");
			spr_kill_reap(ch[i].pid, &status);
		}
		if (ch[i].why)
			spr_check_fail(&c, "killed: %s", ch[i].why);
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			spr_check_fail(&c, "%s (see its failed checks)",
				       spr_status_str(status, how,
						      sizeof(how)));
		spr_check_end(&c);
		close(ch[i].up);
		close(ch[i].down);
	}
}

static void wl_usage(const char *msg)
{
	fprintf(stderr,
		"usage: spr_workload [-p processes (4)] [-n rounds (200)] [-m pages (1024)]\n"
		"                    [-s seed (1)] [-t time budget s (45)] [-r hog reserve MiB (32)]\n");
	spr_check_one(false, "workload_options", "%s", msg);
	exit(1);
}

static void wl_parse(int argc, char **argv, struct wl_opts *o)
{
	__u64 v;
	int opt;

	while ((opt = getopt(argc, argv, "p:n:m:s:t:r:")) != -1) {
		switch (opt) {
		case 'p':
			if (!spr_parse_u64(optarg, 1, 64, &v))
				wl_usage("-p: 1 to 64 processes");
			o->procs = v;
			break;
		case 'n':
			if (!spr_parse_u64(optarg, 0, 1000000, &v))
				wl_usage("-n: 0 to 1000000 rounds");
			o->rounds = v;
			break;
		case 'm':
			/* Room for a held span and as many Available pages. */
			if (!spr_parse_u64(optarg, 2 * WL_MAX_SPAN,
					   SPR_MAX_PAGES, &v))
				wl_usage("-m: 128 to 1024 pages");
			o->pages = v;
			break;
		case 's':
			if (!spr_parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				wl_usage("-s: a 64-bit seed");
			break;
		case 't':
			if (!spr_parse_u64(optarg, 5, 3600, &v))
				wl_usage("-t: 5 to 3600 seconds");
			o->budget_s = v;
			break;
		case 'r':
			if (!spr_parse_u64(optarg, 0, 1 << 20, &v))
				wl_usage("-r: 0 to 1048576 MiB");
			o->reserve_mib = v;
			break;
		default:
			wl_usage("unknown option");
		}
	}
	if (optind != argc)
		wl_usage("unexpected argument");
}

/* The parent's own range is never mapped: it reads the global counters. */
static int wl_open_parent(void)
{
	struct spr_test_counters ctr;
	int fd = open(SPR_TEST_DEVICE, O_RDWR);
	int ret = fd < 0 ? -errno : spr_counters(fd, &ctr);

	if (!ret)
		ret = spr_probe_init();
	if (spr_check_one(!ret, "workload_open", "open and COUNTERS of %s: %s",
			  SPR_TEST_DEVICE, spr_errname(-ret)))
		return fd;
	exit(1);
}

int main(int argc, char **argv)
{
	struct wl_opts o = {
		.procs = 4, .rounds = 200, .pages = SPR_MAX_PAGES, .seed = 1,
		.budget_s = 45, .reserve_mib = 32,
	};
	struct wl_results sum = { 0 };
	struct wl_child *ch;
	__s64 start = spr_now_ms(), deadline;
	unsigned int i;
	int fd, ret;

	wl_parse(argc, argv, &o);
	deadline = start + o.budget_s * 1000LL;
	signal(SIGPIPE, SIG_IGN);
	fd = wl_open_parent();

	/* Workers inherit it: only the hog may be the OOM killer's victim. */
	ret = spr_write_file("/proc/self/oom_score_adj", "-1000");
	spr_check_one(!ret, "workload_oom_score_adj",
		      "writing -1000 to /proc/self/oom_score_adj: %s",
		      spr_errname(-ret));

	ch = calloc(o.procs, sizeof(*ch));
	for (i = 0; ch && i < o.procs; i++)
		if (!wl_spawn(ch, i, &o, fd, deadline))
			break;
	if (!spr_check_one(ch && i == o.procs, "workload_spawn",
			   "started %u of %u workers: %s", i, o.procs,
			   spr_errname(errno)))
		o.procs = ch ? i : 0;

	wl_wait_ready(ch, o.procs, 1, deadline);
	wl_pressure_drop_caches(fd);
	wl_go(ch, o.procs);
	wl_wait_ready(ch, o.procs, 2, deadline);
	wl_pressure_hog(fd, &o, deadline);
	wl_go(ch, o.procs);
	wl_collect(ch, o.procs, deadline + WL_GRACE_MS, &sum);

	spr_metric("workload_pages_used", sum.pages_used);
	spr_metric("workload_pages_made_available", sum.pages_made_available);
	spr_metric("workload_p1_pages_reclaimed", sum.reclaimed[0]);
	spr_metric("workload_p2_pages_reclaimed", sum.reclaimed[1]);
	spr_metric("workload_bytes_verified", sum.bytes_verified);
	spr_metric("workload_elapsed_ms", spr_now_ms() - start);
	spr_dump_debugfs("stats");
	spr_dump_debugfs("ranges");
	close(fd);
	return spr_nr_failed ? 1 : 0;
}
