// SPDX-License-Identifier: GPL-2.0
/*
 * spr_stress: everything at once, for a bounded time.
 *
 * Worker processes each map a range of random size, and their threads race
 * USE, STOP, WRITE, READ and ZERO on it. Each thread owns a stripe of the
 * range for data: it writes a pattern of its own, new for each generation,
 * into pages it holds In use, checks it through the mapping and READ until
 * it STOPs them, and when it uses them again they hold either that last
 * pattern (not reclaimed) or zeros (reclaimed): anything else is a failure.
 * The threads also race USE and STOP on a stripe that they all share,
 * without data checks.
 *
 * Meanwhile a reclaimer process writes 2 to /proc/sys/vm/drop_caches and
 * calls SCAN with random counts, a memory hog allocates and frees a large
 * part of memory, and a churn process opens, maps, uses and closes short
 * ranges and forks children that use a range until it kills them with
 * SIGKILL at a random moment.
 *
 * At the end every process must have stopped and exited normally, no
 * worker may have seen a data error or an unexpected errno, and once every
 * range is closed the shrinker's lru must be empty.
 *
 * Every process records its checks and figures in memory shared with the
 * parent; only the parent prints. The threads of a worker share its checks
 * under a mutex.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>

#include "spr_user.h"

#define ST_MIN_PAGES	64
#define ST_MAX_SPAN	16	/* pages; 64 KiB, one READ */
#define ST_MAX_HELD	4	/* spans a thread holds at once */
#define ST_MAX_PROCS	16
#define ST_MAX_THREADS	16
#define ST_CHURN_PAGES	64
#define ST_MAX_KIDS	1000	/* churn children, over the whole run */
#define ST_KID_MS	2000	/* a child that is not killed stops by then */
#define ST_DROP_MS	500	/* between two drop_caches */
#define ST_STOP_MS	30000	/* for everyone to stop after the run */
#define ST_DRAIN_MS	10000	/* for closed ranges to leave the lru */

struct st_opts {
	unsigned int seconds;
	unsigned int procs;
	unsigned int threads;
	unsigned int hog_pct;
	__u64 seed;
};

/* A worker process's checks and figures. */
struct st_proc_result {
	struct spr_check data;
	struct spr_check errors;
	__u64 bytes_verified;
	bool done;
};

/* Figures, summed with atomics by every process. */
struct st_figures {
	__u64 ops;
	__u64 use;
	__u64 stop;
	__u64 enomem;
	__u64 bytes_verified;
	__u64 zeroed_pages;	/* came back zeroed: reclaimed while stopped */
	__u64 ranges_created;
	__u64 kills;
	__u64 scans;
	__u64 scan_freed;
	__u64 drop_caches;
	__u64 hog_rounds;
	__u64 hog_mib;
	__u64 churn_ranges;
};

/* Memory shared by the parent and every process it starts. */
struct st_shared {
	int stop;		/* set by the parent: wind up now */
	struct st_figures fig;
	struct spr_check reclaimer;
	struct spr_check hog;
	struct spr_check churn;
	struct spr_check kids;
	bool helper_done[3];
	struct st_proc_result w[ST_MAX_PROCS];
};

enum { ST_RECLAIMER, ST_HOG, ST_CHURN, ST_NR_HELPERS };

/* Pages [start, end) of a range. */
struct st_span {
	size_t start;
	size_t end;
};

struct st_worker {
	unsigned int id;
	const struct st_opts *o;
	struct st_shared *sh;
	struct st_proc_result *res;
	int fd;
	const __u8 *map;
	size_t nr_pages;
	size_t shared_start;	/* the shared stripe: [shared_start, nr_pages) */
	__s64 deadline;
	pthread_mutex_t lock;	/* for spr_fmt and the checks */
};

struct st_thread {
	struct st_worker *w;
	unsigned int id;
	pthread_t tid;
	size_t first;		/* its stripe: [first, end) */
	size_t end;
	__u64 *gen;		/* per page of the stripe: its pattern, 0: zeros */
	__u64 next_gen;
	struct st_span held[ST_MAX_HELD];	/* oldest first */
	unsigned int nr_held;
	__u8 *buf;		/* ST_MAX_SPAN pages each */
	__u8 *got;
	__u8 *want;
	__u64 rng;
	bool failed;
	struct st_figures fig;	/* added to the shared ones at the end */
};

/* Failure text, per thread: spr_fmt is one per process. */
static __thread char st_msg[SPR_LINE_MAX];

/* SIGTERM, SIGINT or SIGHUP: stop early, but stop cleanly. */
static int st_interrupted;

static void st_on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&st_interrupted, 1, __ATOMIC_RELAXED);
}

static void st_add(__u64 *counter, __u64 n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static bool st_stopping(const struct st_shared *sh, __s64 deadline)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED) ||
	       spr_now_ms() >= deadline;
}

static const char *st_sig(int sig)
{
	const char *abbrev = sig ? sigabbrev_np(sig) : NULL;

	return abbrev ? abbrev : "?";
}

static size_t st_bytes(size_t pages)
{
	return pages * SPR_PAGE_SIZE;
}

/* Record st_msg as a failure of @c, for the whole process to see. */
static bool st_failed(struct st_thread *t, struct spr_check *c)
{
	pthread_mutex_lock(&t->w->lock);
	spr_strscpy(spr_fmt, st_msg, sizeof(spr_fmt));
	spr_check_failed(c);
	pthread_mutex_unlock(&t->w->lock);
	t->failed = true;
	return false;
}

#define st_fail(t, c, ...) \
	(snprintf(st_msg, sizeof(st_msg), __VA_ARGS__), st_failed(t, c))

/* An ioctl on held pages, or STOP: it must work. */
static bool st_expect_ok(struct st_thread *t, const char *what,
			 struct st_span s, int ret)
{
	if (!ret)
		return true;
	return st_fail(t, &t->w->res->errors,
		       "thread %u: %s [%zu, %zu): %s (%d), expected success",
		       t->id, what, s.start, s.end,
		       ret < 0 ? spr_errname(-ret) : "?", ret);
}

/* USE: 0, or ENOMEM (counted), and nothing else. */
static bool st_expect_use(struct st_thread *t, const char *what,
			  struct st_span s, int ret)
{
	if (ret == -ENOMEM)
		t->fig.enomem++;
	if (!ret || ret == -ENOMEM)
		return true;
	return st_fail(t, &t->w->res->errors,
		       "thread %u: %s [%zu, %zu): %s (%d), expected success or ENOMEM",
		       t->id, what, s.start, s.end,
		       ret < 0 ? spr_errname(-ret) : "?", ret);
}

/* The pattern of generation @gen of page @page, into @out. */
static void st_pattern(const struct st_thread *t, size_t page, __u64 gen,
		       __u8 *out)
{
	__u64 key = t->w->o->seed ^ ((__u64)t->w->id << 56) ^
		    ((__u64)t->id << 48) ^ (gen << 20) ^ page;

	spr_rand(&key);
	spr_rand_fill(&key, out, SPR_PAGE_SIZE);
}

/* What the span should hold, by the thread's book, into t->want. */
static void st_expected(struct st_thread *t, struct st_span s)
{
	size_t page;
	__u8 *p;

	for (page = s.start; page < s.end; page++) {
		p = t->want + st_bytes(page - s.start);
		if (t->gen[page - t->first])
			st_pattern(t, page, t->gen[page - t->first], p);
		else
			memset(p, 0, SPR_PAGE_SIZE);
	}
}

/* @len bytes of t->got, from byte @off of the range, must be t->want's. */
static bool st_compare(struct st_thread *t, const char *what, const char *how,
		       size_t off, size_t len)
{
	size_t i = spr_first_diff(t->got, t->want, len);
	size_t byte = off + i;

	if (i == len) {
		t->fig.bytes_verified += len;
		return true;
	}
	return st_fail(t, &t->w->res->data,
		       "thread %u: %s: %s: byte %zu (page %zu +%zu, generation %llu) expected 0x%02x got 0x%02x",
		       t->id, what, how, byte, byte / SPR_PAGE_SIZE,
		       byte % SPR_PAGE_SIZE,
		       t->gen[byte / SPR_PAGE_SIZE - t->first],
		       t->want[i], t->got[i]);
}

/* The held span @s holds t->want, through the mapping and through READ. */
static bool st_verify(struct st_thread *t, const char *what,
		      struct st_span s)
{
	size_t off = st_bytes(s.start), len = st_bytes(s.end - s.start);
	int sig = spr_copy_safe(t->got, t->w->map + off, len);

	if (sig)
		return st_fail(t, &t->w->res->data,
			       "thread %u: %s: SIG%s reading In-use pages [%zu, %zu)",
			       t->id, what, st_sig(sig), s.start, s.end);
	if (!st_compare(t, what, "mapping", off, len))
		return false;
	t->fig.ops++;
	if (!st_expect_ok(t, "READ", s, spr_read(t->w->fd, off, len, t->got)))
		return false;
	return st_compare(t, what, "READ", off, len);
}

/*
 * Pages just used again hold their last pattern, or zeros if the shrinker
 * freed them while they were stopped. The book follows which.
 */
static bool st_check_back(struct st_thread *t, struct st_span s)
{
	size_t off = st_bytes(s.start), len = st_bytes(s.end - s.start);
	size_t page, i;
	__u8 *got;
	int sig;

	st_expected(t, s);
	sig = spr_copy_safe(t->got, t->w->map + off, len);
	if (sig)
		return st_fail(t, &t->w->res->data,
			       "thread %u: SIG%s reading pages [%zu, %zu) after USE",
			       t->id, st_sig(sig), s.start, s.end);
	for (page = s.start; page < s.end; page++) {
		i = st_bytes(page - s.start);
		got = t->got + i;
		if (!memcmp(got, t->want + i, SPR_PAGE_SIZE))
			continue;
		if (!spr_is_zero(got, SPR_PAGE_SIZE)) {
			i += spr_first_diff(got, t->want + i, SPR_PAGE_SIZE);
			return st_fail(t, &t->w->res->data,
				       "thread %u: page %zu after USE is neither zeros nor its last pattern (generation %llu): byte %zu is 0x%02x, expected 0x%02x or 0",
				       t->id, page, t->gen[page - t->first],
				       i % SPR_PAGE_SIZE, t->got[i],
				       t->want[i]);
		}
		t->gen[page - t->first] = 0;
		memset(t->want + i, 0, SPR_PAGE_SIZE);
		t->fig.zeroed_pages++;
	}
	t->fig.bytes_verified += len;
	t->fig.ops++;
	if (!st_expect_ok(t, "READ after USE", s,
			  spr_read(t->w->fd, off, len, t->got)))
		return false;
	return st_compare(t, "after USE", "READ", off, len);
}

static bool st_overlaps_held(const struct st_thread *t, struct st_span s)
{
	unsigned int i;

	for (i = 0; i < t->nr_held; i++)
		if (s.start < t->held[i].end && t->held[i].start < s.end)
			return true;
	return false;
}

/* A random span of the thread's stripe that it does not hold yet. */
static bool st_pick_span(struct st_thread *t, struct st_span *s)
{
	size_t stripe = t->end - t->first;
	size_t len, max = spr_min(ST_MAX_SPAN, stripe);
	unsigned int tries;

	for (tries = 0; tries < 16; tries++) {
		len = 1 + spr_rand_below(&t->rng, max);
		s->start = t->first + spr_rand_below(&t->rng, stripe - len + 1);
		s->end = s->start + len;
		if (!st_overlaps_held(t, *s))
			return true;
	}
	return false;
}

/* The oldest held span, checked one last time, goes back to the shrinker. */
static bool st_release_oldest(struct st_thread *t)
{
	struct st_span s = t->held[0];

	t->nr_held--;
	memmove(t->held, t->held + 1, t->nr_held * sizeof(s));
	st_expected(t, s);
	if (!st_verify(t, "before STOP", s))
		return false;
	t->fig.ops++;
	t->fig.stop++;
	return st_expect_ok(t, "STOP", s, spr_stop(t->w->fd, s.start, s.end));
}

/* Zero part of a held span, and see zeros there. */
static bool st_zero(struct st_thread *t, struct st_span s)
{
	size_t base = st_bytes(s.start), len = st_bytes(s.end - s.start);
	size_t off = spr_rand_below(&t->rng, len);
	size_t size = 1 + spr_rand_below(&t->rng, len - off);
	int sig;

	t->fig.ops++;
	if (!st_expect_ok(t, "ZERO", s, spr_zero(t->w->fd, base + off, size)))
		return false;
	sig = spr_copy_safe(t->got, t->w->map + base + off, size);
	if (sig)
		return st_fail(t, &t->w->res->data,
			       "thread %u: SIG%s reading zeroed bytes of [%zu, %zu)",
			       t->id, st_sig(sig), s.start, s.end);
	memset(t->want, 0, size);
	return st_compare(t, "after ZERO", "mapping", base + off, size);
}

/* A new generation of the pattern over the whole span, in two WRITEs. */
static bool st_write(struct st_thread *t, struct st_span s)
{
	size_t base = st_bytes(s.start), len = st_bytes(s.end - s.start);
	size_t cut = spr_rand_below(&t->rng, len + 1);
	__u64 gen = ++t->next_gen;
	size_t page;

	for (page = s.start; page < s.end; page++)
		st_pattern(t, page, gen, t->buf + st_bytes(page - s.start));
	if (cut) {
		t->fig.ops++;
		if (!st_expect_ok(t, "WRITE", s,
				  spr_write(t->w->fd, base, cut, t->buf)))
			return false;
	}
	if (cut < len) {
		t->fig.ops++;
		if (!st_expect_ok(t, "WRITE", s,
				  spr_write(t->w->fd, base + cut, len - cut,
					    t->buf + cut)))
			return false;
	}
	for (page = s.start; page < s.end; page++)
		t->gen[page - t->first] = gen;
	memcpy(t->want, t->buf, len);
	return st_verify(t, "after WRITE", s);
}

/* USE a span of the stripe, check what came back, write it, hold it. */
static bool st_take(struct st_thread *t)
{
	struct st_span s;
	int ret;

	while (!st_pick_span(t, &s))
		if (!st_release_oldest(t))
			return false;
	t->fig.ops++;
	t->fig.use++;
	ret = spr_use(t->w->fd, s.start, s.end);
	if (!st_expect_use(t, "USE", s, ret))
		return false;
	if (ret) {
		/* The pages before the one that failed are In use. */
		t->fig.ops++;
		t->fig.stop++;
		return st_expect_ok(t, "STOP after a failed USE", s,
				    spr_stop(t->w->fd, s.start, s.end));
	}
	if (!st_check_back(t, s))
		return false;
	if (!spr_rand_below(&t->rng, 4) && !st_zero(t, s))
		return false;
	if (!st_write(t, s))
		return false;
	t->held[t->nr_held++] = s;
	return true;
}

/* USE or STOP on the stripe that every thread shares; no data. */
static bool st_shared_op(struct st_thread *t)
{
	struct st_worker *w = t->w;
	size_t stripe = w->nr_pages - w->shared_start;
	size_t len = 1 + spr_rand_below(&t->rng, spr_min(ST_MAX_SPAN, stripe));
	struct st_span s;

	s.start = w->shared_start + spr_rand_below(&t->rng, stripe - len + 1);
	s.end = s.start + len;
	t->fig.ops++;
	if (spr_rand_below(&t->rng, 2)) {
		t->fig.use++;
		return st_expect_use(t, "USE of the shared stripe", s,
				     spr_use(w->fd, s.start, s.end));
	}
	t->fig.stop++;
	return st_expect_ok(t, "STOP of the shared stripe", s,
			    spr_stop(w->fd, s.start, s.end));
}

/* STATES and COUNTERS, racing everything: they work and make sense. */
static bool st_look(struct st_thread *t)
{
	struct st_worker *w = t->w;
	struct st_span all = { 0, w->nr_pages };
	struct spr_test_counters ctr;
	size_t page;

	t->fig.ops += 2;
	if (!st_expect_ok(t, "COUNTERS", all, spr_counters(w->fd, &ctr)) ||
	    !st_expect_ok(t, "STATES", all,
			  spr_states(w->fd, 0, w->nr_pages, t->got)))
		return false;
	if (ctr.nr_pages != w->nr_pages ||
	    ctr.free + ctr.available + ctr.in_use != ctr.nr_pages)
		return st_fail(t, &w->res->data,
			       "thread %u: COUNTERS nr_pages %llu free %llu available %llu in_use %llu, expected a sum of %zu",
			       t->id, ctr.nr_pages, ctr.free, ctr.available,
			       ctr.in_use, w->nr_pages);
	for (page = 0; page < w->nr_pages; page++)
		if (t->got[page] > SPR_TEST_IN_USE)
			return st_fail(t, &w->res->data,
				       "thread %u: STATES gave %u for page %zu",
				       t->id, t->got[page], page);
	/* What this thread holds is In use, whatever else happens. */
	for (page = t->first; page < t->end; page++)
		if (t->got[page] != SPR_TEST_IN_USE &&
		    st_overlaps_held(t, (struct st_span){ page, page + 1 }))
			return st_fail(t, &w->res->data,
				       "thread %u: page %zu is held but STATES says %u",
				       t->id, page, t->got[page]);
	return true;
}

static void *st_thread_main(void *arg)
{
	struct st_thread *t = arg;
	struct st_worker *w = t->w;
	struct st_figures *f = &w->sh->fig;
	__u64 r;

	while (!t->failed && !st_stopping(w->sh, w->deadline)) {
		r = spr_rand_below(&t->rng, 16);
		if (r < 3)
			st_shared_op(t);
		else if (r == 3)
			st_look(t);
		else if (t->nr_held == ST_MAX_HELD ||
			 (t->nr_held && r < 8))
			st_release_oldest(t);
		else
			st_take(t);
	}
	while (!t->failed && t->nr_held)
		st_release_oldest(t);
	st_add(&f->ops, t->fig.ops);
	st_add(&f->use, t->fig.use);
	st_add(&f->stop, t->fig.stop);
	st_add(&f->enomem, t->fig.enomem);
	st_add(&f->bytes_verified, t->fig.bytes_verified);
	st_add(&f->zeroed_pages, t->fig.zeroed_pages);
	st_add(&w->res->bytes_verified, t->fig.bytes_verified);
	return NULL;
}

static int st_worker_main(struct st_worker *w, __u64 rng)
{
	struct st_proc_result *res = w->res;
	unsigned int i, nr = w->o->threads, started = 0;
	struct st_thread *t;
	size_t stripe;
	int ret;

	w->nr_pages = ST_MIN_PAGES +
		      spr_rand_below(&rng, SPR_MAX_PAGES - ST_MIN_PAGES + 1);
	pthread_mutex_init(&w->lock, NULL);
	w->fd = open(SPR_TEST_DEVICE, O_RDWR);
	if (w->fd < 0) {
		spr_check_fail(&res->errors, "open %s: %s", SPR_TEST_DEVICE,
			       spr_errname(errno));
		return 1;
	}
	w->map = spr_map(w->fd, w->nr_pages);
	if (!w->map) {
		spr_check_fail(&res->errors, "mmap of %zu pages: %s",
			       w->nr_pages, spr_errname(errno));
		return 1;
	}
	st_add(&w->sh->fig.ranges_created, 1);
	/* A quarter is shared; the rest is cut into one stripe per thread. */
	stripe = (w->nr_pages - w->nr_pages / 4) / nr;
	w->shared_start = stripe * nr;
	t = calloc(nr, sizeof(*t));
	if (!t) {
		spr_check_fail(&res->errors, "out of memory for %u threads", nr);
		return 1;
	}
	for (i = 0; i < nr; i++) {
		t[i].w = w;
		t[i].id = i;
		t[i].first = i * stripe;
		t[i].end = t[i].first + stripe;
		t[i].rng = rng * 7919 + i;
		t[i].gen = calloc(stripe, sizeof(*t[i].gen));
		t[i].buf = malloc(st_bytes(ST_MAX_SPAN));
		/* Also for STATES of the whole range: 1024 bytes at most. */
		t[i].got = malloc(st_bytes(ST_MAX_SPAN));
		t[i].want = malloc(st_bytes(ST_MAX_SPAN));
		ret = -ENOMEM;
		if (t[i].gen && t[i].buf && t[i].got && t[i].want)
			ret = pthread_create(&t[i].tid, NULL, st_thread_main,
					     &t[i]);
		if (ret) {
			/* The threads started already may be failing too. */
			pthread_mutex_lock(&w->lock);
			spr_check_fail(&res->errors, "starting thread %u: %s",
				       i, spr_errname(ret < 0 ? -ret : ret));
			pthread_mutex_unlock(&w->lock);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(t[i].tid, NULL);
	/* Lines of the checks name the range, for the failures' sake. */
	pthread_mutex_lock(&w->lock);
	if (spr_check_ok(&res->data) && !res->bytes_verified)
		spr_check_fail(&res->data, "verified no byte in %zu pages",
			       w->nr_pages);
	pthread_mutex_unlock(&w->lock);
	munmap((void *)w->map, st_bytes(w->nr_pages));
	close(w->fd);
	res->done = true;
	return spr_check_ok(&res->data) && spr_check_ok(&res->errors) ? 0 : 1;
}

/* drop_caches now and then, SCAN all the time. */
static int st_reclaimer(struct st_shared *sh, __s64 deadline, __u64 rng)
{
	struct spr_check *c = &sh->reclaimer;
	__s64 next_drop = 0;
	__u64 nr;
	int fd, ret;

	fd = open(SPR_TEST_DEVICE, O_RDWR);
	if (fd < 0) {
		spr_check_fail(c, "open %s: %s", SPR_TEST_DEVICE,
			       spr_errname(errno));
		return 1;
	}
	while (spr_check_ok(c) && !st_stopping(sh, deadline)) {
		if (spr_now_ms() >= next_drop) {
			ret = spr_write_file("/proc/sys/vm/drop_caches", "2");
			if (ret)
				spr_check_fail(c, "writing 2 to /proc/sys/vm/drop_caches: %s",
					       spr_errname(-ret));
			st_add(&sh->fig.drop_caches, 1);
			next_drop = spr_now_ms() + ST_DROP_MS;
		}
		nr = 1 + spr_rand_below(&rng, 1024);
		ret = spr_scan(fd, &nr);
		st_add(&sh->fig.ops, 1);
		if (ret)
			spr_check_fail(c, "SCAN: %s", spr_errname(-ret));
		else
			st_add(&sh->fig.scan_freed, nr);
		st_add(&sh->fig.scans, 1);
		spr_sleep_ms(1 + spr_rand_below(&rng, 5));
	}
	close(fd);
	sh->helper_done[ST_RECLAIMER] = true;
	return spr_check_ok(c) ? 0 : 1;
}

/* Allocate and touch @pct % of memory, hold it a moment, free it; again. */
static int st_hog(struct st_shared *sh, __s64 deadline, unsigned int pct)
{
	struct spr_check *c = &sh->hog;
	__u64 total = spr_meminfo_kb("MemTotal") * 1024;
	size_t len = total / 100 * pct, off;
	unsigned int failures = 0;
	__u8 *p;
	int ret;

	ret = spr_write_file("/proc/self/oom_score_adj", "1000");
	if (ret)
		spr_check_fail(c, "writing 1000 to /proc/self/oom_score_adj: %s",
			       spr_errname(-ret));
	if (!total)
		spr_check_fail(c, "no MemTotal in /proc/meminfo");
	while (pct && len && spr_check_ok(c) && !st_stopping(sh, deadline)) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			/* Overcommit may refuse now and then; not always. */
			if (++failures >= 100)
				spr_check_fail(c, "mmap of %zu MiB failed 100 times: %s",
					       len >> 20, spr_errname(errno));
			spr_sleep_ms(100);
			continue;
		}
		for (off = 0; off < len; off += SPR_PAGE_SIZE) {
			p[off] = (off >> 12) | 1;
			if (!(off & ((1 << 20) - 1)) &&
			    st_stopping(sh, deadline))
				break;
		}
		spr_barrier();
		st_add(&sh->fig.hog_rounds, 1);
		st_add(&sh->fig.hog_mib, off >> 20);
		spr_sleep_ms(50);
		munmap(p, len);
		spr_sleep_ms(100);
	}
	sh->helper_done[ST_HOG] = true;
	return spr_check_ok(c) ? 0 : 1;
}

/* A churn child: use a range until killed, or until its time is up. */
static void st_kid(struct st_shared *sh, __u64 rng)
{
	struct spr_check *c = &sh->kids;
	__s64 until = spr_now_ms() + ST_KID_MS;
	size_t nr = 1 + spr_rand_below(&rng, ST_CHURN_PAGES), start, len;
	__u64 x, got = 0;
	const __u8 *map;
	int fd, ret;

	fd = open(SPR_TEST_DEVICE, O_RDWR);
	map = fd < 0 ? NULL : spr_map(fd, nr);
	if (!map) {
		spr_check_fail(c, "open and mmap of %zu pages: %s", nr,
			       spr_errname(errno));
		_exit(1);
	}
	st_add(&sh->fig.ranges_created, 1);
	while (spr_now_ms() < until) {
		len = 1 + spr_rand_below(&rng, nr);
		start = spr_rand_below(&rng, nr - len + 1);
		st_add(&sh->fig.ops, 1);
		st_add(&sh->fig.use, 1);
		ret = spr_use(fd, start, start + len);
		if (ret == -ENOMEM) {
			st_add(&sh->fig.enomem, 1);
		} else if (ret) {
			spr_check_fail(c, "USE [%zu, %zu) of %zu pages: %s",
				       start, start + len, nr,
				       spr_errname(-ret));
			_exit(1);
		} else {
			x = spr_rand(&rng);
			st_add(&sh->fig.ops, 2);
			ret = spr_write(fd, st_bytes(start), sizeof(x), &x);
			if (!ret)
				ret = spr_read(fd, st_bytes(start), sizeof(got),
					       &got);
			if (ret || got != x) {
				spr_check_fail(c,
					       "WRITE and READ at page %zu: %s, read 0x%llx after writing 0x%llx",
					       start, spr_errname(-ret), got,
					       x);
				_exit(1);
			}
		}
		/* Half the time, leave them In use for release to find. */
		if (spr_rand_below(&rng, 2)) {
			st_add(&sh->fig.ops, 1);
			st_add(&sh->fig.stop, 1);
			ret = spr_stop(fd, start, start + len);
			if (ret) {
				spr_check_fail(c, "STOP: %s", spr_errname(-ret));
				_exit(1);
			}
		}
	}
	_exit(0);
}

/* Fork a child that uses a range, kill it at a random moment, reap it. */
static bool st_churn_kill(struct st_shared *sh, __u64 *rng)
{
	struct spr_check *c = &sh->churn;
	__u64 kid_rng = spr_rand(rng);
	char how[64];
	int status;
	pid_t pid;

	pid = spr_fork();
	if (!pid)
		st_kid(sh, kid_rng);
	if (pid < 0)
		return spr_check_fail(c, "fork: %s", spr_errname(errno));
	spr_sleep_ms(spr_rand_below(rng, 60));
	if (spr_kill_reap(pid, &status))
		return spr_check_fail(c, "a child killed with SIGKILL was not reaped within 2 s");
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		st_add(&sh->fig.kills, 1);
		return true;
	}
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return true;
	return spr_check_fail(c, "a child: %s",
			      spr_status_str(status, how, sizeof(how)));
}

/* Open, map, use and close a short range, in a random order. */
static bool st_churn_range(struct st_shared *sh, __u64 *rng)
{
	struct spr_check *c = &sh->churn;
	size_t nr = 1 + spr_rand_below(rng, ST_CHURN_PAGES), start, len;
	unsigned int i, ops = 1 + spr_rand_below(rng, 8);
	__u64 x = 0, scanned;
	const __u8 *map;
	int fd, ret;

	fd = open(SPR_TEST_DEVICE, O_RDWR);
	if (fd < 0)
		return spr_check_fail(c, "open %s: %s", SPR_TEST_DEVICE,
				      spr_errname(errno));
	map = spr_map(fd, nr);
	if (!map) {
		close(fd);
		return spr_check_fail(c, "mmap of %zu pages: %s", nr,
				      spr_errname(errno));
	}
	st_add(&sh->fig.ranges_created, 1);
	st_add(&sh->fig.churn_ranges, 1);
	for (i = 0; i < ops; i++) {
		len = 1 + spr_rand_below(rng, nr);
		start = spr_rand_below(rng, nr - len + 1);
		st_add(&sh->fig.ops, 1);
		st_add(&sh->fig.use, 1);
		ret = spr_use(fd, start, start + len);
		if (ret == -ENOMEM) {
			st_add(&sh->fig.enomem, 1);
			continue;
		}
		if (ret) {
			spr_check_fail(c, "USE [%zu, %zu) of %zu pages: %s",
				       start, start + len, nr,
				       spr_errname(-ret));
			break;
		}
		st_add(&sh->fig.ops, 1);
		ret = spr_write(fd, st_bytes(start), sizeof(x), &x);
		if (ret) {
			spr_check_fail(c, "WRITE at page %zu: %s", start,
				       spr_errname(-ret));
			break;
		}
		if (spr_rand_below(rng, 3)) {
			st_add(&sh->fig.ops, 1);
			st_add(&sh->fig.stop, 1);
			ret = spr_stop(fd, start, start + len);
			if (ret) {
				spr_check_fail(c, "STOP: %s",
					       spr_errname(-ret));
				break;
			}
		}
		if (!spr_rand_below(rng, 4)) {
			scanned = 1 + spr_rand_below(rng, 64);
			st_add(&sh->fig.ops, 1);
			ret = spr_scan(fd, &scanned);
			if (ret) {
				spr_check_fail(c, "SCAN: %s",
					       spr_errname(-ret));
				break;
			}
		}
	}
	/* The vma or the fd goes first; release runs when both are gone. */
	if (spr_rand_below(rng, 2)) {
		munmap((void *)map, st_bytes(nr));
		close(fd);
	} else {
		close(fd);
		munmap((void *)map, st_bytes(nr));
	}
	return spr_check_ok(c);
}

static int st_churn(struct st_shared *sh, __s64 deadline, __u64 rng)
{
	unsigned int kids = 0;

	while (spr_check_ok(&sh->churn) && !st_stopping(sh, deadline)) {
		if (kids < ST_MAX_KIDS && !spr_rand_below(&rng, 4)) {
			kids++;
			st_churn_kill(sh, &rng);
		} else {
			st_churn_range(sh, &rng);
		}
	}
	sh->helper_done[ST_CHURN] = true;
	return spr_check_ok(&sh->churn) ? 0 : 1;
}

/* The parent's view of a process it started. */
struct st_child {
	const char *name;	/* of its exit check */
	pid_t pid;
	bool reaped;
	int status;
	const char *why;	/* why we killed it, if we did */
};

/* Wait for every process until @deadline; kill and reap the rest. */
static void st_wait_all(struct st_child *ch, unsigned int n, __s64 deadline)
{
	unsigned int i, left = 0;
	pid_t ret;

	for (i = 0; i < n; i++)
		left += !ch[i].reaped;
	while (left && spr_now_ms() < deadline) {
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
		if (left)
			spr_sleep_ms(10);
	}
	for (i = 0; i < n; i++) {
		if (ch[i].reaped)
			continue;
		ch[i].why = "it did not stop in time after the run";
		spr_kill_reap(ch[i].pid, &ch[i].status);
		ch[i].reaped = true;
	}
}

static void st_exit_check(const struct st_child *ch, bool done)
{
	struct spr_check c;
	char how[64];

	spr_check_init(&c, "%s", ch->name);
	if (ch->pid <= 0)
		spr_check_fail(&c, "fork: %s", spr_errname(-ch->pid));
	else if (ch->why)
		spr_check_fail(&c, "killed: %s", ch->why);
	else if (!WIFEXITED(ch->status) || WEXITSTATUS(ch->status))
		spr_check_fail(&c, "%s (see its failed checks)",
			       spr_status_str(ch->status, how, sizeof(how)));
	else if (!done)
		spr_check_fail(&c, "exited before its end");
	spr_check_end(&c);
}

/* Once every range is closed, nothing of ours is left on the lru. */
static void st_check_lru(__u64 reclaimed0)
{
	struct spr_test_counters ctr = { 0 };
	struct spr_check c;
	__s64 until = spr_now_ms() + ST_DRAIN_MS;
	int fd, ret;

	spr_check_init(&c, "stress_lru_empty");
	fd = open(SPR_TEST_DEVICE, O_RDWR);
	ret = fd < 0 ? -errno : 0;
	while (!ret) {
		ret = spr_counters(fd, &ctr);
		if (ret || !ctr.shrinker_available || spr_now_ms() >= until)
			break;
		/* Release may run from a workqueue once the mm is gone. */
		spr_sleep_ms(50);
	}
	if (ret)
		spr_check_fail(&c, "open and COUNTERS of a fresh fd: %s",
			       spr_errname(-ret));
	else if (ctr.shrinker_available)
		spr_check_fail(&c,
			       "shrinker_available is %llu %d ms after every range was closed, expected 0",
			       ctr.shrinker_available, ST_DRAIN_MS);
	spr_check_end(&c);
	if (!ret)
		spr_metric("stress_reclaimed",
			   ctr.shrinker_reclaimed - reclaimed0);
	if (fd >= 0)
		close(fd);
}

static void st_usage(const char *msg)
{
	fprintf(stderr,
		"usage: spr_stress [-t seconds (60)] [-p processes (4)] [-T threads (3)]\n"
		"                  [-m hog %% of MemTotal (40)] [-s seed (1)]\n");
	spr_check_one(false, "stress_options", "%s", msg);
	exit(1);
}

static void st_parse(int argc, char **argv, struct st_opts *o)
{
	__u64 v;
	int opt;

	while ((opt = getopt(argc, argv, "t:p:T:m:s:")) != -1) {
		switch (opt) {
		case 't':
			if (!spr_parse_u64(optarg, 1, 3600, &v))
				st_usage("-t: 1 to 3600 seconds");
			o->seconds = v;
			break;
		case 'p':
			if (!spr_parse_u64(optarg, 1, ST_MAX_PROCS, &v))
				st_usage("-p: 1 to 16 processes");
			o->procs = v;
			break;
		case 'T':
			if (!spr_parse_u64(optarg, 1, ST_MAX_THREADS, &v))
				st_usage("-T: 1 to 16 threads");
			o->threads = v;
			break;
		case 'm':
			if (!spr_parse_u64(optarg, 0, 80, &v))
				st_usage("-m: 0 (no hog) to 80 %");
			o->hog_pct = v;
			break;
		case 's':
			if (!spr_parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				st_usage("-s: a 64-bit seed");
			break;
		default:
			st_usage("unknown option");
		}
	}
	if (optind != argc)
		st_usage("unexpected argument");
}

/* Fork a process whose exit check is @name; it returns 0 in the child. */
static void st_start(struct st_child *ch, const char *name)
{
	ch->name = name;
	ch->pid = spr_fork();
	if (!ch->pid) {
		/* Only the parent stops on a signal; the rest follow it. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
	}
	if (ch->pid < 0) {
		ch->pid = -errno;
		ch->reaped = true;
	}
}

static void st_report(struct st_shared *sh, struct st_child *ch,
		      unsigned int procs, __u64 reclaimed0, __s64 start)
{
	const struct st_figures *f = &sh->fig;
	unsigned int i;

	for (i = 0; i < procs; i++) {
		spr_check_end(&sh->w[i].data);
		spr_check_end(&sh->w[i].errors);
		st_exit_check(&ch[i], sh->w[i].done);
	}
	spr_check_end(&sh->reclaimer);
	st_exit_check(&ch[procs + ST_RECLAIMER],
		      sh->helper_done[ST_RECLAIMER]);
	spr_check_end(&sh->hog);
	st_exit_check(&ch[procs + ST_HOG], sh->helper_done[ST_HOG]);
	spr_check_end(&sh->churn);
	spr_check_end(&sh->kids);
	st_exit_check(&ch[procs + ST_CHURN], sh->helper_done[ST_CHURN]);
	st_check_lru(reclaimed0);

	spr_metric("stress_ops", f->ops);
	spr_metric("stress_use", f->use);
	spr_metric("stress_stop", f->stop);
	spr_metric("stress_enomem", f->enomem);
	spr_metric("stress_bytes_verified", f->bytes_verified);
	spr_metric("stress_zeroed_pages", f->zeroed_pages);
	spr_metric("stress_ranges_created", f->ranges_created);
	spr_metric("stress_churn_ranges", f->churn_ranges);
	spr_metric("stress_kills", f->kills);
	spr_metric("stress_scans", f->scans);
	spr_metric("stress_scan_freed", f->scan_freed);
	spr_metric("stress_drop_caches", f->drop_caches);
	spr_metric("stress_hog_rounds", f->hog_rounds);
	spr_metric("stress_hog_mib", f->hog_mib);
	spr_metric("stress_seconds", (spr_now_ms() - start + 500) / 1000);
	spr_dump_debugfs("stats");
}

int main(int argc, char **argv)
{
	struct st_opts o = {
		.seconds = 60, .procs = 4, .threads = 3, .hog_pct = 40,
		.seed = 1,
	};
	static const char *const helper_names[ST_NR_HELPERS] = {
		[ST_RECLAIMER] = "stress_reclaimer_exit",
		[ST_HOG] = "stress_hog_exit",
		[ST_CHURN] = "stress_churn_exit",
	};
	struct st_child ch[ST_MAX_PROCS + ST_NR_HELPERS] = { 0 };
	char names[ST_MAX_PROCS][32];
	struct sigaction sa = { .sa_handler = st_on_signal };
	struct spr_test_counters before;
	struct st_shared *sh;
	struct st_child *h;
	__s64 start = spr_now_ms(), deadline;
	unsigned int i;
	int fd, ret;

	st_parse(argc, argv, &o);
	deadline = start + o.seconds * 1000LL;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	sh = spr_shared_alloc(sizeof(*sh));
	fd = open(SPR_TEST_DEVICE, O_RDWR);
	ret = fd < 0 ? -errno : spr_counters(fd, &before);
	if (!ret)
		ret = spr_probe_init();
	/* Inherited by every process: only the hog may be the OOM victim. */
	if (!ret)
		ret = spr_write_file("/proc/self/oom_score_adj", "-1000");
	if (!spr_check_one(!ret && sh, "stress_setup",
			   "open and COUNTERS of %s, sigaction, oom_score_adj -1000: %s; shared memory %s",
			   SPR_TEST_DEVICE, spr_errname(-ret),
			   sh ? "ok" : "failed"))
		return 1;
	close(fd);

	for (i = 0; i < o.procs; i++) {
		spr_check_init(&sh->w[i].data, "stress_w%u_data", i);
		spr_check_init(&sh->w[i].errors, "stress_w%u_errno", i);
	}
	spr_check_init(&sh->reclaimer, "stress_reclaimer");
	spr_check_init(&sh->hog, "stress_hog");
	spr_check_init(&sh->churn, "stress_churn");
	spr_check_init(&sh->kids, "stress_churn_children");

	for (i = 0; i < o.procs; i++) {
		snprintf(names[i], sizeof(names[i]), "stress_w%u_exit", i);
		st_start(&ch[i], names[i]);
		if (!ch[i].pid) {
			struct st_worker w = {
				.id = i, .o = &o, .sh = sh, .res = &sh->w[i],
				.deadline = deadline,
			};

			_exit(st_worker_main(&w, o.seed * 1000003 + i));
		}
	}
	h = ch + o.procs;
	for (i = 0; i < ST_NR_HELPERS; i++) {
		st_start(&h[i], helper_names[i]);
		if (h[i].pid)
			continue;
		if (i == ST_RECLAIMER)
			_exit(st_reclaimer(sh, deadline, o.seed + 17));
		if (i == ST_HOG)
			_exit(st_hog(sh, deadline, o.hog_pct));
		_exit(st_churn(sh, deadline, o.seed + 31));
	}

	while (spr_now_ms() < deadline &&
	       !__atomic_load_n(&st_interrupted, __ATOMIC_RELAXED))
		spr_sleep_ms(100);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	st_wait_all(ch, o.procs + ST_NR_HELPERS, spr_now_ms() + ST_STOP_MS);
	st_report(sh, ch, o.procs, before.shrinker_reclaimed, start);
	if (__atomic_load_n(&st_interrupted, __ATOMIC_RELAXED))
		spr_check_one(false, "stress_interrupted",
			      "stopped early by a signal");
	return spr_nr_failed ? 1 : 0;
}
