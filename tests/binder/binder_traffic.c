// SPDX-License-Identifier: GPL-2.0
/*
 * binder_traffic: binder transactions of many sizes between a context
 * manager and client processes, every payload checked byte for byte at both
 * ends, to test binder's buffer allocator under the load its users put on
 * it. The stock binder_linux.ko and one whose allocator sits on
 * shrinkable_page_range must pass the same checks: the names and the number
 * of the checks depend on the options only, never on the driver.
 *
 * The server, a forked process, is the context manager. Its looper threads
 * verify every payload, echo it in the reply (the header of struct
 * bt_reply alone beyond BT_ECHO_MAX bytes), and free every buffer with
 * BC_FREE_BUFFER at once. Clients are forked processes whose threads call
 * handle 0. A payload is a pattern seeded by the transaction code, which
 * carries the client, its thread and a sequence number, so that the server
 * can check every byte of a payload of any size, even 0 or 1 byte.
 *
 * Phases:
 *   sizes    one client thread: each size of bt_sizes[] synchronously and
 *            oneway; the limits: synchronous up to the whole buffer of the
 *            server (4 MiB, binder's limit on a mapping), oneway up to the
 *            async half; and 8 bytes beyond each, which must fail with
 *            BR_FAILED_REPLY and leave the driver working.
 *   traffic  -c clients of -T threads for -t seconds, random sizes, a
 *            quarter oneway. With -r, reclaim meanwhile: traffic pauses,
 *            drop_caches must empty the server's lru, traffic resumes, and
 *            a memory hog runs beside it. With -k, clients are killed: some
 *            while the server holds their transaction, some at random.
 *   after    a new client runs the sizes again.
 *   end      the server must hold no buffer; binder's page counts for it.
 * With -b, a benchmark instead: one client thread, ping-pong of 64 B, 4 KiB
 * and 256 KiB, a third of -t each.
 * With -b and -A DEVICE, the benchmark alternates between two drivers: each
 * device has its own server, and the one client thread opens both. Each
 * size's third is cut into rounds of two slices of BT_ALT_SLICE_US, one on
 * each device, the first slice's device swapped from round to round. A
 * host that stalls for longer than a slice or drifts over seconds then
 * costs both drivers alike, and each round gives a ratio of two rates
 * taken a slice apart: -A's device over -d's.
 * With -M COUNT, no server, no transaction: what the kernel spends on a
 * binder_proc with a mapped buffer, by MemFree. After drop_caches, this
 * process opens the device COUNT times, each open its own binder_proc,
 * maps 4 MiB of each and asks each for BINDER_VERSION; MemFree before and
 * after, over COUNT, is the cost of one. Then all are closed and unmapped,
 * and MemFree must come back as binder's deferred release frees them.
 *
 * Output: "SPR-CHECK PASS|FAIL <name> [details]" and "SPR-METRIC <name>
 * <value>", one write(2) a line. Every process records failures in shared
 * memory; only the parent prints checks, each once, whatever happened to
 * the processes that fed it. Exit status 0 iff no check failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/android/binder.h>

#include "../user/spr_util.h"

#define BT_PAGE_SIZE		4096UL
/* binder maps at most 4 MiB of a process (binder_alloc_mmap_handler()). */
#define BT_MAP_SIZE		(4UL << 20)
/* Oneway transactions may hold half of it (free_async_space). */
#define BT_ASYNC_SIZE		(BT_MAP_SIZE / 2)
/* Replies echo payloads up to this size; beyond, the header alone. */
#define BT_ECHO_MAX		(256UL << 10)
/* A transaction that the server holds until its client is killed. */
#define BT_DELAY_SIZE		(256UL << 10)
/* Traffic budgets in the server's 4 MiB, synchronous and oneway. */
#define BT_SYNC_BUDGET		(3UL << 20)
#define BT_ONEWAY_BUDGET	(1024UL * 1024)
#define BT_MAX_CLIENTS		32
#define BT_MAX_THREADS		16
#define BT_NR_KILLS		3
#define BT_DETAIL_MAX		400
#define BT_LINE_MAX		(BT_DETAIL_MAX + 200)
#define BT_FILE_MAX		(512UL << 10)
#define BT_BINDER_DEBUGFS	"/sys/kernel/debug/binder"
#define BT_PATH_MAX		256
#define BT_MODULE_STATS \
	"/sys/kernel/debug/shrinkable_page_range/android-binder/stats"
/* The memory hog leaves this much of MemAvailable: no OOM killer. */
#define BT_HOG_MARGIN_MIB	48
#define BT_HOG_CHUNK_MIB	4
#define BT_HOG_ALLOC_MS		15000
#define BT_HOG_MAX_MS		30000
/* How long a client may wait for the server's stats, and so on. */
#define BT_STATS_WAIT_MS	10000
#define BT_ENOSPC_MAX_MS	10000
#define BT_CHILD_GRACE_MS	60000
/* -M: at most this many binder_procs; how long their release may take. */
#define BT_MEM_MAX_PROCS	1024
#define BT_MEM_RELEASE_MS	2000
/* -A: a slice on one device, and room for the rounds of -t 3600. */
#define BT_ALT_SLICE_US		100000
#define BT_ALT_MAX_ROUNDS	6000
#define BT_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * A transaction code: op (4 bits), client (8), thread (6), seq (14). The
 * server learns from it how to check the payload and whose it is.
 */
enum bt_op {
	BT_OP_DATA = 1,		/* a pattern payload: verify, echo */
	BT_OP_STATS,		/* struct bt_stats_req: this thread's counts */
	BT_OP_DELAY,		/* a pattern payload: reply once killed */
};

/* Client ids: which phase a sender belongs to. */
#define BT_ID_SIZES		0
#define BT_ID_TRAFFIC		1	/* to BT_MAX_CLIENTS */
#define BT_ID_DELAYED		100	/* + victim */
#define BT_ID_RANDOM		120	/* + victim */
#define BT_ID_AFTER		200
#define BT_ID_BENCH		210
#define BT_NR_SENDERS		16384U

/* Shared worker slots, one per client thread. */
#define BT_SLOT_SIZES		(BT_MAX_CLIENTS * BT_MAX_THREADS)
#define BT_SLOT_AFTER		(BT_SLOT_SIZES + 1)
#define BT_SLOT_BENCH		(BT_SLOT_SIZES + 2)
#define BT_SLOT_DELAYED		(BT_SLOT_SIZES + 3)
#define BT_SLOT_RANDOM		(BT_SLOT_DELAYED + BT_NR_KILLS)
#define BT_NR_SLOTS		(BT_SLOT_RANDOM + BT_NR_KILLS)

#define BT_REPLY_MAGIC		0x62747270U
#define BT_STATS_MAGIC		0x62747374U

/* What the server replies: this header, then the echo. */
struct bt_reply {
	__u32 magic;
	__u32 code;		/* the request's */
	__u64 size;		/* the request's data_size, as received */
	__u64 bad;		/* the first wrong byte's offset + 1, or 0 */
	__u64 sync_rx;		/* this client thread's, as the server counts */
	__u64 oneway_rx;
	__u64 bad_rx;
	__u64 echo;		/* bytes of the payload after this header */
};

/* BT_OP_STATS: the reply comes once the server has all the oneways. */
struct bt_stats_req {
	__u32 magic;
	__u32 pad;
	__u64 oneway_sent;
};

enum bt_check_id {
	BT_C_OPEN,
	BT_C_SERVER_SETUP,
	BT_C_SIZES_SYNC,
	BT_C_SIZES_ONEWAY,
	BT_C_LIMITS_SYNC,
	BT_C_LIMITS_ONEWAY,
	BT_C_OVER_LIMIT_SYNC,
	BT_C_OVER_LIMIT_ONEWAY,
	BT_C_RECLAIM_DROP,
	BT_C_MODULE_RECLAIMED,
	BT_C_RECLAIM_HOG,
	BT_C_AFTER_RECLAIM,
	BT_C_KILL_DEAD_REPLY,
	BT_C_KILL_RANDOM,
	BT_C_TRAFFIC,
	BT_C_TRAFFIC_COUNTS,
	BT_C_AFTER_SIZES,
	BT_C_BENCH_64,
	BT_C_BENCH_4K,
	BT_C_BENCH_256K,
	BT_C_PROC_MEM,
	BT_C_MODULE_STATS,
	BT_C_SERVER_VERIFY,
	BT_C_BUFFERS_RELEASED,
	BT_C_SERVER_EXIT,
	BT_C_CHILDREN_REAPED,
	BT_NR_CHECKS
};

static const char * const bt_check_names[BT_NR_CHECKS] = {
	[BT_C_OPEN] = "binder_open",
	[BT_C_SERVER_SETUP] = "binder_server_setup",
	[BT_C_SIZES_SYNC] = "binder_sizes_sync",
	[BT_C_SIZES_ONEWAY] = "binder_sizes_oneway",
	[BT_C_LIMITS_SYNC] = "binder_limits_sync",
	[BT_C_LIMITS_ONEWAY] = "binder_limits_oneway",
	[BT_C_OVER_LIMIT_SYNC] = "binder_over_limit_sync",
	[BT_C_OVER_LIMIT_ONEWAY] = "binder_over_limit_oneway",
	[BT_C_RECLAIM_DROP] = "binder_reclaim_drop_caches",
	[BT_C_MODULE_RECLAIMED] = "binder_module_reclaimed",
	[BT_C_RECLAIM_HOG] = "binder_reclaim_hog",
	[BT_C_AFTER_RECLAIM] = "binder_traffic_after_reclaim",
	[BT_C_KILL_DEAD_REPLY] = "binder_kill_dead_reply",
	[BT_C_KILL_RANDOM] = "binder_kill_random",
	[BT_C_TRAFFIC] = "binder_traffic",
	[BT_C_TRAFFIC_COUNTS] = "binder_traffic_counts",
	[BT_C_AFTER_SIZES] = "binder_after_sizes",
	[BT_C_BENCH_64] = "binder_bench_64",
	[BT_C_BENCH_4K] = "binder_bench_4096",
	[BT_C_BENCH_256K] = "binder_bench_262144",
	[BT_C_PROC_MEM] = "binder_proc_mem",
	[BT_C_MODULE_STATS] = "binder_module_stats",
	[BT_C_SERVER_VERIFY] = "binder_server_verify",
	[BT_C_BUFFERS_RELEASED] = "binder_buffers_released",
	[BT_C_SERVER_EXIT] = "binder_server_exit",
	[BT_C_CHILDREN_REAPED] = "binder_children_reaped",
};

/* A check in shared memory: any process may fail it. */
struct bt_check {
	unsigned int nr_failed;
	unsigned int done;	/* its phase ran to the end */
	char detail[BT_DETAIL_MAX];	/* the first failure */
};

/* One client thread's figures, and what it waits for (for a hang). */
struct bt_worker {
	__u64 sync_ok;		/* replies that verified */
	__u64 oneway_sent;
	__u64 bytes;		/* verified, both ways */
	__u64 enospc;		/* retries: the server's buffer was full */
	__u64 after_drop;	/* verified after the quiesced drop_caches */
	__u64 after_hog;	/* verified after the memory hog */
	__u32 busy_code;
	__u32 busy_size;
	__u32 busy_oneway;
	__s64 busy_since;	/* ms; 0 when not in the driver */
	unsigned int paused;
	unsigned int finished;
};

/* The server's counts per client thread (code >> 14). */
struct bt_sender {
	__u64 sync_rx;
	__u64 oneway_rx;
	__u64 bad;
};

struct bt_shared {
	struct bt_check checks[BT_NR_CHECKS];
	int server_state;	/* 1 ready, -1 failed */
	unsigned int stop;
	unsigned int pause;
	unsigned int epoch;	/* 1 after the quiesced drop, 2 after the hog */
	__u64 srv_sync;
	__u64 srv_oneway;
	__u64 srv_bytes;
	__u64 srv_complete;	/* BC_REPLY answered by BR_TRANSACTION_COMPLETE */
	__u64 srv_dead;		/* ... by BR_DEAD_REPLY */
	__u64 srv_failed;	/* ... by BR_FAILED_REPLY */
	__u64 srv_refs;
	__u64 srv_spawn;
	unsigned int victim_seen[BT_NR_KILLS];
	unsigned int victim_go[BT_NR_KILLS];
	__u32 victim_result[BT_NR_KILLS];
	__u64 hog_mib;
	__u64 bench_n[3];
	__u64 bench_us[3];
	/* -A: the same for its device, and each round's ratio in ppm. */
	__u64 alt_n[3];
	__u64 alt_us[3];
	unsigned int alt_rounds[3];
	__u32 alt_ppm[3][BT_ALT_MAX_ROUNDS];
	struct bt_sender senders[BT_NR_SENDERS];
	struct bt_worker workers[BT_NR_SLOTS];
};

struct bt_opts {
	const char *dev;
	const char *binder_debugfs;
	const char *alt_dev;		/* -A: the benchmark's second driver */
	const char *alt_debugfs;	/* -E: its debugfs directory */
	const char *stats_path;
	unsigned int clients;
	unsigned int threads;
	unsigned int seconds;
	unsigned int bench;
	unsigned int mem_procs;	/* -M: binder_procs to measure; 0 off */
	unsigned int reclaim;
	unsigned int kill;
	unsigned int module;
};

struct bt_binder {
	int fd;
	const __u8 *map;
};

struct bt_thread;
typedef void (*bt_run_fn)(struct bt_thread *t);

struct bt_thread {
	struct bt_binder *b;
	struct bt_worker *w;
	bt_run_fn run;
	enum bt_check_id check;	/* where failures go */
	unsigned int client;
	unsigned int thread;
	unsigned int seq;
	unsigned int bench;	/* a fixed payload per size: seq 0 */
	size_t filled;		/* with bench: the size buf holds */
	__u64 seen_oneway;	/* the server's oneway count at the last reply */
	binder_uintptr_t pending_free;	/* a reply buffer to free */
	__u8 *buf;
	size_t buf_size;
};

struct bt_client {
	unsigned int id;
	unsigned int nr_threads;
	unsigned int slot;
	enum bt_check_id check;
	size_t buf_size;
	bt_run_fn run;
};

/* Outgoing binder commands. */
struct bt_cmds {
	__u8 buf[256];
	size_t len;
};

/* How a transaction ended, seen by the client. */
struct bt_outcome {
	__u32 cmd;		/* the BR_ that ended it; 0 after an error */
	int err;		/* -errno of BINDER_WRITE_READ, BR_ERROR's value */
	__u32 ee_command;	/* BINDER_GET_EXTENDED_ERROR after a failure */
	__s32 ee_param;
	__u32 unexpected;	/* the first unexpected BR_ command */
	unsigned int completed;	/* BR_TRANSACTION_COMPLETE seen */
	struct binder_transaction_data tr;
};

struct bt_pages {
	long buffers;
	long active;
	long lru;
	long free;
	long high;
};

struct bt_mstats {
	long available;
	long reclaimed;
	long alloc_failed;
};

struct bt_srv_thread {
	struct bt_binder *b;
	unsigned int index;
	__u8 *reply;		/* struct bt_reply + BT_ECHO_MAX */
	unsigned int pending;	/* a BC_REPLY whose answer is to come */
	int pending_victim;
};

static const size_t bt_sizes[] = {
	0, 1, 7, 8, 63, 64, 4095, 4096, 4097, 8191, 65536, 262144,
};

/*
 * The limits, for a phase where nothing else holds a buffer: the whole
 * mapping is one free buffer, and binder_alloc keeps its metadata out of
 * it, so a synchronous payload of exactly BT_MAP_SIZE fits (the data size
 * is rounded up to 8 bytes, which 4 MiB already is). One page below is the
 * margin a driver would need for a page of its own; both must work. Oneway
 * payloads are limited by free_async_space, half the mapping, the same way.
 */
static const size_t bt_limits_sync[] = {
	1UL << 20, BT_MAP_SIZE - BT_PAGE_SIZE, BT_MAP_SIZE,
};

static const size_t bt_limits_oneway[] = {
	1UL << 20, BT_ASYNC_SIZE - BT_PAGE_SIZE, BT_ASYNC_SIZE,
};

static const size_t bt_bench_sizes[] = { 64, 4096, 262144 };

static const char * const bt_br_names[] = {
	"BR_ERROR", "BR_OK", "BR_TRANSACTION", "BR_REPLY",
	"BR_ACQUIRE_RESULT", "BR_DEAD_REPLY", "BR_TRANSACTION_COMPLETE",
	"BR_INCREFS", "BR_ACQUIRE", "BR_RELEASE", "BR_DECREFS",
	"BR_ATTEMPT_ACQUIRE", "BR_NOOP", "BR_SPAWN_LOOPER", "BR_FINISHED",
	"BR_DEAD_BINDER", "BR_CLEAR_DEATH_NOTIFICATION_DONE",
	"BR_FAILED_REPLY", "BR_FROZEN_REPLY", "BR_ONEWAY_SPAM_SUSPECT",
	"BR_TRANSACTION_PENDING_FROZEN", "BR_FROZEN_BINDER",
	"BR_CLEAR_FREEZE_NOTIFICATION_DONE",
};

static struct bt_shared *bt_sh;
static struct bt_opts bt_o;
static pid_t bt_parent;
/* Checks the parent printed as failed. */
static unsigned int bt_nr_failed;
/* Traffic: the largest synchronous and oneway payloads. */
static size_t bt_sync_cap;
static size_t bt_oneway_cap;
static unsigned int bt_nr_traffic_sizes;

/* Output, one write(2) a line. */

static void bt_puts(const char *s)
{
	char line[BT_LINE_MAX + 1];
	size_t len = strnlen(s, BT_LINE_MAX);

	memcpy(line, s, len);
	line[len++] = '\n';
	spr_write_all(STDOUT_FILENO, line, len);
}

/* Formatted through snprintf(), so that the compiler checks the formats. */
#define bt_print(...) \
	do { \
		char bt_line_[BT_LINE_MAX]; \
		snprintf(bt_line_, sizeof(bt_line_), __VA_ARGS__); \
		bt_puts(bt_line_); \
	} while (0)

static void bt_metric(const char *name, long long value)
{
	bt_print("SPR-METRIC %s %lld", name, value);
}

static void bt_fail_str(enum bt_check_id id, const char *detail)
{
	struct bt_check *c = &bt_sh->checks[id];

	if (!__atomic_fetch_add(&c->nr_failed, 1, __ATOMIC_ACQ_REL))
		spr_strscpy(c->detail, detail, sizeof(c->detail));
}

#define bt_err(id, ...) \
	do { \
		char bt_detail_[BT_DETAIL_MAX]; \
		snprintf(bt_detail_, sizeof(bt_detail_), __VA_ARGS__); \
		bt_fail_str(id, bt_detail_); \
	} while (0)

static void bt_done(enum bt_check_id id)
{
	__atomic_store_n(&bt_sh->checks[id].done, 1, __ATOMIC_RELEASE);
}

static bool bt_failed(enum bt_check_id id)
{
	return __atomic_load_n(&bt_sh->checks[id].nr_failed, __ATOMIC_ACQUIRE);
}

/* Print check @id: PASS, or FAIL with its first failure. Parent only. */
static void bt_check_end(enum bt_check_id id)
{
	struct bt_check *c = &bt_sh->checks[id];
	unsigned int n = __atomic_load_n(&c->nr_failed, __ATOMIC_ACQUIRE);
	unsigned int done = __atomic_load_n(&c->done, __ATOMIC_ACQUIRE);
	const char *name = bt_check_names[id];

	if (!n && done) {
		bt_print("SPR-CHECK PASS %s", name);
		return;
	}
	bt_nr_failed++;
	if (!n)
		bt_print("SPR-CHECK FAIL %s did not run to its end", name);
	else if (n == 1)
		bt_print("SPR-CHECK FAIL %s %s%s", name, c->detail,
			 done ? "" : " (and it did not run to its end)");
	else
		bt_print("SPR-CHECK FAIL %s %s (+%u more)%s", name, c->detail,
			 n - 1, done ? "" : " (and it did not run to its end)");
}

/* Small helpers. */

static const char *bt_brname(__u32 cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (cmd == BR_TRANSACTION_SEC_CTX)
		return "BR_TRANSACTION_SEC_CTX";
	if (_IOC_TYPE(cmd) != 'r' || nr >= BT_ARRAY_SIZE(bt_br_names))
		return "BR_unknown";
	return bt_br_names[nr];
}

static __s64 bt_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void bt_sleep_until(__s64 when_ms)
{
	__s64 now = spr_now_ms();

	if (when_ms > now)
		spr_sleep_ms(when_ms - now);
}

static __u64 bt_load(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void bt_add(__u64 *p, __u64 v)
{
	__atomic_fetch_add(p, v, __ATOMIC_ACQ_REL);
}

static unsigned int bt_load_uint(const unsigned int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void bt_store_uint(unsigned int *p, unsigned int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static const char *bt_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by SIG%s",
			 sigabbrev_np(WTERMSIG(status)) ?: "?");
	else
		snprintf(buf, len, "wait status 0x%x", status);
	return buf;
}

static bool bt_parse_uint(const char *s, unsigned int min, unsigned int max,
			  unsigned int *out)
{
	__u64 v;

	if (!spr_parse_u64(s, min, max, &v))
		return false;
	*out = v;
	return true;
}

/* Read @path into @buf, NUL-terminated; its length or -errno. */
static long bt_read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* Read file @name of the driver's own debugfs directory (-B). */
static long bt_read_binder_file(const char *name, char *buf, size_t size)
{
	char path[BT_PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", bt_o.binder_debugfs,
		     name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return bt_read_file(path, buf, size);
}

/*
 * binder's debugfs stats, the section of process @pid: "  buffers: N",
 * "  pages: active:lru:free", "  pages high watermark: N". 0, or -ENOENT
 * without the file, -ESRCH without the process, -EBADMSG.
 */
static int bt_binder_pages(pid_t pid, struct bt_pages *p)
{
	char *buf = malloc(BT_FILE_MAX), *line, *next;
	unsigned int found = 0;
	bool in = false;
	long ret;

	if (!buf)
		return -ENOMEM;
	ret = bt_read_binder_file("stats", buf, BT_FILE_MAX);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	memset(p, 0, sizeof(*p));
	for (line = buf; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "proc ", 5)) {
			in = strtol(line + 5, NULL, 10) == pid;
			if (in)
				found |= 1;
		} else if (in) {
			if (sscanf(line, "  buffers: %ld", &p->buffers) == 1)
				found |= 2;
			else if (sscanf(line, "  pages: %ld:%ld:%ld", &p->active,
					&p->lru, &p->free) == 3)
				found |= 4;
			else if (sscanf(line, "  pages high watermark: %ld",
					&p->high) == 1)
				found |= 8;
		}
	}
	free(buf);
	if (!(found & 1))
		return -ESRCH;
	return found == 15 ? 0 : -EBADMSG;
}

/* Whether binder's stats still list process @pid (or cannot tell). */
static bool bt_binder_has_proc(pid_t pid)
{
	struct bt_pages p;

	return bt_binder_pages(pid, &p) != -ESRCH;
}

static int bt_module_stats(struct bt_mstats *m)
{
	char buf[4096], *line;
	unsigned int found = 0;
	long ret = bt_read_file(bt_o.stats_path, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	for (line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (sscanf(line, "available: %ld", &m->available) == 1)
			found |= 1;
		else if (sscanf(line, "reclaimed: %ld", &m->reclaimed) == 1)
			found |= 2;
		else if (sscanf(line, "alloc_failed: %ld",
				&m->alloc_failed) == 1)
			found |= 4;
	}
	return found == 7 ? 0 : -EBADMSG;
}

/*
 * Whether binder's failed_transaction_log has a reply from @server of
 * @size bytes that failed with BR_DEAD_REPLY: 1, 0, or -errno.
 */
static int bt_dead_reply_logged(pid_t server, long size)
{
	char *buf = malloc(BT_FILE_MAX), *line, *next;
	int from_proc, from_thread, to_proc, to_thread, node, handle;
	int data_size, offsets_size, ret_error, ret_param, line_nr, id;
	char type[16], context[64];
	long ret;

	if (!buf)
		return -ENOMEM;
	ret = bt_read_binder_file("failed_transaction_log", buf,
				  BT_FILE_MAX);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	ret = 0;
	for (line = buf; line && !ret; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line,
			   "%d: %15s from %d:%d to %d:%d context %63s node %d handle %d size %d:%d ret %d/%d l=%d",
			   &id, type, &from_proc, &from_thread, &to_proc,
			   &to_thread, context, &node, &handle, &data_size,
			   &offsets_size, &ret_error, &ret_param,
			   &line_nr) != 14)
			continue;
		ret = !strcmp(type, "reply") && from_proc == server &&
		      data_size == size && (__u32)ret_error == BR_DEAD_REPLY;
	}
	free(buf);
	return ret;
}

/*
 * The payload pattern: the 8 bytes at offset i (a multiple of 8) are
 * bt_mix(seed + i), so that any byte can be told on its own.
 */
static __u64 bt_mix(__u64 z)
{
	return spr_rand(&z);
}

static __u64 bt_seed(__u32 code, size_t size)
{
	return bt_mix((__u64)code << 32 ^ size);
}

static void bt_fill(__u8 *buf, size_t size, __u64 seed)
{
	size_t i;
	__u64 w;

	for (i = 0; i < size; i += 8) {
		w = bt_mix(seed + i);
		memcpy(buf + i, &w, size - i < 8 ? size - i : 8);
	}
}

static __u8 bt_expected(__u64 seed, size_t offset)
{
	return bt_mix(seed + (offset & ~7UL)) >> (8 * (offset & 7));
}

/* The offset of the first byte of @buf off the pattern, or @size. */
static size_t bt_verify(const __u8 *buf, size_t size, __u64 seed)
{
	size_t i, n;
	__u64 w;

	for (i = 0; i < size; i += 8) {
		w = bt_mix(seed + i);
		n = size - i < 8 ? size - i : 8;
		if (memcmp(buf + i, &w, n))
			return i + spr_first_diff(buf + i, (const __u8 *)&w, n);
	}
	return size;
}

/* Transaction codes. */

static __u32 bt_code(unsigned int op, unsigned int client,
		     unsigned int thread, unsigned int seq)
{
	return (__u32)op << 28 | (client & 0xff) << 20 |
	       (thread & 0x3f) << 14 | (seq & 0x3fff);
}

static unsigned int bt_code_op(__u32 code)
{
	return code >> 28;
}

static unsigned int bt_code_client(__u32 code)
{
	return code >> 20 & 0xff;
}

static unsigned int bt_code_thread(__u32 code)
{
	return code >> 14 & 0x3f;
}

static unsigned int bt_code_seq(__u32 code)
{
	return code & 0x3fff;
}

static const char *bt_opname(unsigned int op)
{
	switch (op) {
	case BT_OP_DATA:
		return "data";
	case BT_OP_STATS:
		return "stats";
	case BT_OP_DELAY:
		return "delayed data";
	}
	return "unknown op";
}

/* "client 3 thread 1 seq 17: sync data of 4096 bytes" */
static void bt_what(__u32 code, size_t size, bool oneway, char *buf,
		    size_t len)
{
	snprintf(buf, len, "client %u thread %u seq %u: %s %s of %zu bytes",
		 bt_code_client(code), bt_code_thread(code), bt_code_seq(code),
		 oneway ? "oneway" : "sync", bt_opname(bt_code_op(code)), size);
}

/* The binder device. */

static void bt_put(struct bt_cmds *w, __u32 cmd, const void *arg, size_t n)
{
	memcpy(w->buf + w->len, &cmd, sizeof(cmd));
	w->len += sizeof(cmd);
	if (n)
		memcpy(w->buf + w->len, arg, n);
	w->len += n;
}

/*
 * Open the device and map BT_MAP_SIZE of it, as libbinder does (read-only:
 * binder refuses a writable mapping). 0, or -errno with @why told.
 */
static int bt_binder_open(struct bt_binder *b, char *why, size_t len)
{
	struct binder_version version = { 0 };
	void *map;
	int err;

	b->fd = open(bt_o.dev, O_RDWR | O_CLOEXEC);
	if (b->fd < 0) {
		err = -errno;
		snprintf(why, len, "open %s: %s", bt_o.dev, spr_errname(-err));
		return err;
	}
	if (ioctl(b->fd, BINDER_VERSION, &version)) {
		err = -errno;
		snprintf(why, len, "BINDER_VERSION: %s", spr_errname(-err));
		goto out_close;
	}
	if (version.protocol_version != BINDER_CURRENT_PROTOCOL_VERSION) {
		err = -EPROTO;
		snprintf(why, len, "protocol version %d, expected %d",
			 version.protocol_version,
			 BINDER_CURRENT_PROTOCOL_VERSION);
		goto out_close;
	}
	map = mmap(NULL, BT_MAP_SIZE, PROT_READ, MAP_PRIVATE | MAP_NORESERVE,
		   b->fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		snprintf(why, len, "mmap of %lu bytes: %s", BT_MAP_SIZE,
			 spr_errname(-err));
		goto out_close;
	}
	b->map = map;
	return 0;

out_close:
	close(b->fd);
	b->fd = -1;
	return err;
}

/*
 * -A: make its driver the one that bt_binder_open() and the readers of
 * binder's debugfs work on; called again, swap back.
 */
static void bt_swap_driver(void)
{
	const char *dev = bt_o.dev, *debugfs = bt_o.binder_debugfs;

	bt_o.dev = bt_o.alt_dev;
	bt_o.binder_debugfs = bt_o.alt_debugfs;
	bt_o.alt_dev = dev;
	bt_o.alt_debugfs = debugfs;
}

/*
 * One BINDER_WRITE_READ: all of @wbuf is written (after EINTR, what is
 * left), then up to @rsize bytes read (none if 0). Bytes read, or -errno.
 */
static long bt_write_read(int fd, const void *wbuf, size_t wlen, void *rbuf,
			  size_t rsize)
{
	struct binder_write_read bwr;
	size_t done = 0;

	for (;;) {
		memset(&bwr, 0, sizeof(bwr));
		bwr.write_buffer = (binder_uintptr_t)(uintptr_t)wbuf + done;
		bwr.write_size = wlen - done;
		bwr.read_buffer = (binder_uintptr_t)(uintptr_t)rbuf;
		bwr.read_size = rsize;
		if (!ioctl(fd, BINDER_WRITE_READ, &bwr)) {
			if (bwr.write_consumed != wlen - done)
				return -EPROTO;
			return bwr.read_consumed;
		}
		if (errno != EINTR)
			return -errno;
		done += bwr.write_consumed;
	}
}

static void bt_outcome_str(const struct bt_outcome *o, char *buf, size_t len)
{
	size_t used;

	if (!o->cmd)
		used = snprintf(buf, len, "BINDER_WRITE_READ failed: %s",
				spr_errname(-o->err));
	else if (o->cmd == BR_FAILED_REPLY || o->cmd == BR_DEAD_REPLY ||
		 o->cmd == BR_FROZEN_REPLY)
		used = snprintf(buf, len, "%s (extended error: %s, %s)",
				bt_brname(o->cmd), bt_brname(o->ee_command),
				spr_errname(-o->ee_param));
	else if (o->cmd == BR_ERROR)
		used = snprintf(buf, len, "BR_ERROR %d", o->err);
	else
		used = snprintf(buf, len, "%s", bt_brname(o->cmd));
	if (o->unexpected && used < len)
		snprintf(buf + used, len - used, ", after an unexpected %s (0x%08x)",
			 bt_brname(o->unexpected), o->unexpected);
}

static void bt_busy(struct bt_thread *t, __u32 code, size_t size,
		    bool oneway)
{
	t->w->busy_code = code;
	t->w->busy_size = size;
	t->w->busy_oneway = oneway;
	__atomic_store_n(&t->w->busy_since, spr_now_ms(), __ATOMIC_RELEASE);
}

static void bt_idle(struct bt_thread *t)
{
	__atomic_store_n(&t->w->busy_since, 0, __ATOMIC_RELEASE);
}

/*
 * Send a transaction to handle 0, with the last reply's BC_FREE_BUFFER in
 * the same write, and read until it ends: BR_REPLY (sync) or
 * BR_TRANSACTION_COMPLETE (oneway), or an error. Commands arrive whole,
 * any number per read; the read buffer fits the largest.
 */
static void bt_transact(struct bt_thread *t, __u32 code, __u32 flags,
			const void *data, size_t size, struct bt_outcome *o)
{
	struct binder_extended_error ee = { 0 };
	struct binder_transaction_data tr;
	struct bt_cmds w = { .len = 0 };
	__u64 rbuf[64];
	const __u8 *rb = (const __u8 *)rbuf;
	binder_uintptr_t ptr;
	size_t off, size_arg;
	__u32 cmd;
	long n;

	memset(o, 0, sizeof(*o));
	if (t->pending_free) {
		ptr = t->pending_free;
		bt_put(&w, BC_FREE_BUFFER, &ptr, sizeof(ptr));
		t->pending_free = 0;
	}
	memset(&tr, 0, sizeof(tr));
	tr.target.handle = 0;
	tr.code = code;
	tr.flags = flags;
	tr.data_size = size;
	tr.data.ptr.buffer = (binder_uintptr_t)(uintptr_t)data;
	bt_put(&w, BC_TRANSACTION, &tr, sizeof(tr));
	while (!o->cmd) {
		n = bt_write_read(t->b->fd, w.buf, w.len, rbuf, sizeof(rbuf));
		w.len = 0;
		if (n < 0) {
			o->err = n;
			return;
		}
		for (off = 0; off + sizeof(cmd) <= (size_t)n;
		     off += size_arg) {
			memcpy(&cmd, rb + off, sizeof(cmd));
			off += sizeof(cmd);
			size_arg = _IOC_SIZE(cmd);
			if (off + size_arg > (size_t)n) {
				o->unexpected = cmd;
				o->err = -EPROTO;
				o->cmd = 0;
				return;
			}
			switch (cmd) {
			case BR_NOOP:
			case BR_SPAWN_LOOPER:
				break;
			case BR_TRANSACTION_COMPLETE:
				o->completed++;
				if (flags & TF_ONE_WAY)
					o->cmd = cmd;
				break;
			case BR_REPLY:
				memcpy(&o->tr, rb + off, sizeof(o->tr));
				/* Whatever it holds, it must be freed. */
				t->pending_free = o->tr.data.ptr.buffer;
				o->cmd = cmd;
				break;
			case BR_ERROR:
				memcpy(&o->err, rb + off, sizeof(o->err));
				o->cmd = cmd;
				break;
			case BR_DEAD_REPLY:
			case BR_FAILED_REPLY:
			case BR_FROZEN_REPLY:
				o->cmd = cmd;
				break;
			default:
				if (!o->unexpected)
					o->unexpected = cmd;
				break;
			}
		}
	}
	if (o->cmd != BR_REPLY && o->cmd != BR_TRANSACTION_COMPLETE &&
	    !ioctl(t->b->fd, BINDER_GET_EXTENDED_ERROR, &ee)) {
		o->ee_command = ee.command;
		o->ee_param = ee.param;
	}
}

/* Free the last reply's buffer now, for a thread that is done. */
static void bt_flush_free(struct bt_thread *t)
{
	struct bt_cmds w = { .len = 0 };
	binder_uintptr_t ptr = t->pending_free;
	long n;

	if (!ptr)
		return;
	t->pending_free = 0;
	bt_put(&w, BC_FREE_BUFFER, &ptr, sizeof(ptr));
	n = bt_write_read(t->b->fd, w.buf, w.len, NULL, 0);
	if (n < 0)
		bt_err(t->check, "client %u thread %u: BC_FREE_BUFFER: %s",
		       t->client, t->thread, spr_errname(-n));
}

static void bt_count_ok(struct bt_thread *t, size_t bytes)
{
	unsigned int epoch = bt_load_uint(&bt_sh->epoch);

	bt_add(&t->w->bytes, bytes);
	if (epoch >= 1)
		bt_add(&t->w->after_drop, 1);
	if (epoch >= 2)
		bt_add(&t->w->after_hog, 1);
}

/* Check a BR_REPLY to a data transaction: its header, then the echo. */
static int bt_check_reply(struct bt_thread *t, __u32 code, size_t size,
			  const struct bt_outcome *o, const char *what)
{
	const struct binder_transaction_data *tr = &o->tr;
	const __u8 *data = (const __u8 *)(uintptr_t)tr->data.ptr.buffer;
	size_t echo = size <= BT_ECHO_MAX ? size : 0;
	struct bt_reply rep;
	size_t diff;

	if (o->completed != 1) {
		bt_err(t->check, "%s: BR_REPLY after %u BR_TRANSACTION_COMPLETE, expected 1",
		       what, o->completed);
		return -EIO;
	}
	if (tr->flags & TF_STATUS_CODE || tr->code != code) {
		bt_err(t->check, "%s: reply with flags 0x%x code 0x%08x, expected 0x%08x",
		       what, tr->flags, tr->code, code);
		return -EIO;
	}
	if (data < t->b->map || tr->data_size > BT_MAP_SIZE ||
	    data + tr->data_size > t->b->map + BT_MAP_SIZE) {
		bt_err(t->check, "%s: reply buffer at offset %td, %llu bytes: outside the %lu byte mapping",
		       what, data - t->b->map, tr->data_size, BT_MAP_SIZE);
		return -EIO;
	}
	if (tr->data_size != sizeof(rep) + echo) {
		bt_err(t->check, "%s: reply of %llu bytes, expected %zu",
		       what, tr->data_size, sizeof(rep) + echo);
		return -EIO;
	}
	memcpy(&rep, data, sizeof(rep));
	if (rep.magic != BT_REPLY_MAGIC || rep.code != code ||
	    rep.size != size || rep.echo != echo) {
		bt_err(t->check, "%s: reply header magic 0x%08x code 0x%08x size %llu echo %llu, expected code 0x%08x size %zu echo %zu",
		       what, rep.magic, rep.code, rep.size, rep.echo, code,
		       size, echo);
		return -EIO;
	}
	if (rep.bad) {
		bt_err(t->check, "%s: the server found byte %llu of %zu wrong",
		       what, rep.bad - 1, size);
		return -EIO;
	}
	diff = spr_first_diff(data + sizeof(rep), t->buf, echo);
	if (diff < echo) {
		bt_err(t->check, "%s: echoed byte %zu of %zu is 0x%02x, sent 0x%02x (reply buffer at offset %td)",
		       what, diff, echo, data[sizeof(rep) + diff],
		       t->buf[diff], data - t->b->map);
		return -EIO;
	}
	t->seen_oneway = rep.oneway_rx;
	bt_add(&t->w->sync_ok, 1);
	bt_count_ok(t, size + echo);
	return 0;
}

/*
 * Send @size bytes of pattern with op @op, and check the outcome: a reply
 * that verifies, or BR_TRANSACTION_COMPLETE for oneway. 0 if so; -ENOSPC
 * if the server's buffer was full and @enospc_ok (the caller retries);
 * -EIO once a failure is recorded in t->check.
 */
static int bt_call(struct bt_thread *t, unsigned int op, size_t size,
		   bool oneway, bool enospc_ok)
{
	__u32 code = bt_code(op, t->client, t->thread,
			     t->bench ? 0 : t->seq++);
	char what[120], how[200];
	struct bt_outcome o;

	if (!t->bench || t->filled != size) {
		bt_fill(t->buf, size, bt_seed(code, size));
		t->filled = size;
	}
	bt_busy(t, code, size, oneway);
	bt_transact(t, code, oneway ? TF_ONE_WAY : 0, t->buf, size, &o);
	bt_idle(t);
	if (enospc_ok && o.cmd == BR_FAILED_REPLY && o.ee_param == -ENOSPC &&
	    !o.unexpected)
		return -ENOSPC;
	bt_what(code, size, oneway, what, sizeof(what));
	if (o.cmd != (oneway ? BR_TRANSACTION_COMPLETE : BR_REPLY) ||
	    o.unexpected) {
		bt_outcome_str(&o, how, sizeof(how));
		bt_err(t->check, "%s: got %s", what, how);
		return -EIO;
	}
	if (oneway) {
		bt_add(&t->w->oneway_sent, 1);
		bt_count_ok(t, size);
		return 0;
	}
	return bt_check_reply(t, code, size, &o, what);
}

/* The same, retried while the server's buffer is full. */
static int bt_call_retry(struct bt_thread *t, unsigned int op, size_t size,
			 bool oneway)
{
	__s64 start = spr_now_ms();
	char what[120];
	int ret;

	for (;;) {
		ret = bt_call(t, op, size, oneway, true);
		if (ret != -ENOSPC)
			return ret;
		bt_add(&t->w->enospc, 1);
		if (spr_now_ms() - start > BT_ENOSPC_MAX_MS) {
			bt_what(bt_code(op, t->client, t->thread, t->seq - 1),
				size, oneway, what, sizeof(what));
			bt_err(t->check, "%s: the server's buffer stayed full (BR_FAILED_REPLY, ENOSPC) for %d ms",
			       what, BT_ENOSPC_MAX_MS);
			return -EIO;
		}
		spr_sleep_ms(2);
	}
}

/* Ask the server for this thread's counts, once it has every oneway. */
static int bt_stats(struct bt_thread *t, struct bt_reply *rep)
{
	struct bt_stats_req req = {
		.magic = BT_STATS_MAGIC,
		.oneway_sent = bt_load(&t->w->oneway_sent),
	};
	__u32 code = bt_code(BT_OP_STATS, t->client, t->thread, t->seq++);
	const __u8 *data;
	char what[120], how[200];
	struct bt_outcome o;

	bt_what(code, sizeof(req), false, what, sizeof(what));
	bt_busy(t, code, sizeof(req), false);
	bt_transact(t, code, 0, &req, sizeof(req), &o);
	bt_idle(t);
	if (o.cmd != BR_REPLY || o.unexpected) {
		bt_outcome_str(&o, how, sizeof(how));
		bt_err(t->check, "%s: got %s", what, how);
		return -EIO;
	}
	data = (const __u8 *)(uintptr_t)o.tr.data.ptr.buffer;
	if (o.tr.data_size != sizeof(*rep) || data < t->b->map ||
	    data + sizeof(*rep) > t->b->map + BT_MAP_SIZE) {
		bt_err(t->check, "%s: reply of %llu bytes at offset %td, expected %zu",
		       what, o.tr.data_size, data - t->b->map, sizeof(*rep));
		return -EIO;
	}
	memcpy(rep, data, sizeof(*rep));
	if (rep->magic != BT_REPLY_MAGIC || rep->code != code) {
		bt_err(t->check, "%s: reply magic 0x%08x code 0x%08x, expected 0x%08x",
		       what, rep->magic, rep->code, code);
		return -EIO;
	}
	t->seen_oneway = rep->oneway_rx;
	return 0;
}

/* The server must have counted what this thread sent, and no bad byte. */
static void bt_expect_counts(struct bt_thread *t)
{
	__u64 sync = bt_load(&t->w->sync_ok);
	__u64 oneway = bt_load(&t->w->oneway_sent);
	struct bt_reply rep;

	if (bt_stats(t, &rep))
		return;
	if (rep.sync_rx != sync || rep.oneway_rx != oneway || rep.bad_rx)
		bt_err(t->check, "client %u thread %u: the server counted %llu sync, %llu oneway, %llu bad; the client had %llu sync replies, %llu oneway sent",
		       t->client, t->thread, rep.sync_rx, rep.oneway_rx,
		       rep.bad_rx, sync, oneway);
}

/* A transaction past a limit: BR_FAILED_REPLY, and the server never saw it. */
static void bt_expect_failed(struct bt_thread *t, size_t size, bool oneway,
			     const char *metric)
{
	__u32 code = bt_code(BT_OP_DATA, t->client, t->thread, t->seq++);
	char what[120], how[200];
	struct bt_outcome o;

	bt_fill(t->buf, size, bt_seed(code, size));
	bt_busy(t, code, size, oneway);
	bt_transact(t, code, oneway ? TF_ONE_WAY : 0, t->buf, size, &o);
	bt_idle(t);
	if (o.cmd != BR_FAILED_REPLY || o.unexpected) {
		bt_what(code, size, oneway, what, sizeof(what));
		bt_outcome_str(&o, how, sizeof(how));
		bt_err(t->check, "%s, past the limit: got %s, expected BR_FAILED_REPLY",
		       what, how);
	}
	/* The errno behind it, for the record: ENOSPC on 6.12. */
	bt_metric(metric, o.ee_param);
}

/* Client phases. */

static void bt_sizes_sync(struct bt_thread *t, enum bt_check_id id,
			  const size_t *sizes, unsigned int n)
{
	unsigned int i;

	t->check = id;
	for (i = 0; i < n; i++)
		bt_call(t, BT_OP_DATA, sizes[i], false, false);
	bt_expect_counts(t);
	bt_done(id);
}

/* Each oneway, then the server's count of it: it came, and it verified. */
static void bt_sizes_oneway(struct bt_thread *t, enum bt_check_id id,
			    const size_t *sizes, unsigned int n)
{
	unsigned int i;

	t->check = id;
	for (i = 0; i < n; i++)
		if (!bt_call(t, BT_OP_DATA, sizes[i], true, false))
			bt_expect_counts(t);
	bt_done(id);
}

static void bt_over_limit(struct bt_thread *t, enum bt_check_id id,
			  size_t limit, bool oneway, const char *metric)
{
	t->check = id;
	bt_expect_failed(t, limit + 8, oneway, metric);
	/* The driver must work on as before. */
	bt_call(t, BT_OP_DATA, BT_PAGE_SIZE, oneway, false);
	bt_expect_counts(t);
	bt_done(id);
}

static void bt_run_sizes(struct bt_thread *t)
{
	bt_sizes_sync(t, BT_C_SIZES_SYNC, bt_sizes, BT_ARRAY_SIZE(bt_sizes));
	bt_sizes_oneway(t, BT_C_SIZES_ONEWAY, bt_sizes,
			BT_ARRAY_SIZE(bt_sizes));
	bt_sizes_sync(t, BT_C_LIMITS_SYNC, bt_limits_sync,
		      BT_ARRAY_SIZE(bt_limits_sync));
	bt_sizes_oneway(t, BT_C_LIMITS_ONEWAY, bt_limits_oneway,
			BT_ARRAY_SIZE(bt_limits_oneway));
	bt_over_limit(t, BT_C_OVER_LIMIT_SYNC, BT_MAP_SIZE, false,
		      "binder_over_limit_sync_error");
	bt_over_limit(t, BT_C_OVER_LIMIT_ONEWAY, BT_ASYNC_SIZE, true,
		      "binder_over_limit_oneway_error");
}

static void bt_run_after(struct bt_thread *t)
{
	bt_sizes_sync(t, BT_C_AFTER_SIZES, bt_sizes, BT_ARRAY_SIZE(bt_sizes));
	bt_sizes_oneway(t, BT_C_AFTER_SIZES, bt_sizes,
			BT_ARRAY_SIZE(bt_sizes));
}

static void bt_pause(struct bt_thread *t)
{
	bt_store_uint(&t->w->paused, 1);
	while (bt_load_uint(&bt_sh->pause) && !bt_load_uint(&bt_sh->stop))
		spr_sleep_ms(5);
	bt_store_uint(&t->w->paused, 0);
}

/*
 * Random sizes up to bt_sync_cap, a quarter oneway (up to bt_oneway_cap).
 * A thread sends a oneway only when the server's count in its last reply
 * shows the previous one done: one in flight per thread at most.
 */
static void bt_run_traffic(struct bt_thread *t)
{
	__u64 rng = bt_mix(t->client << 6 | t->thread), r;
	unsigned int failures = 0;
	bool oneway;
	size_t size;

	t->check = BT_C_TRAFFIC;
	while (!bt_load_uint(&bt_sh->stop)) {
		if (bt_load_uint(&bt_sh->pause)) {
			bt_pause(t);
			continue;
		}
		r = bt_mix(rng++);
		size = bt_sizes[r % bt_nr_traffic_sizes];
		oneway = (r >> 32) % 4 == 0 && size <= bt_oneway_cap &&
			 t->seen_oneway == bt_load(&t->w->oneway_sent);
		if (bt_call_retry(t, BT_OP_DATA, size, oneway) &&
		    ++failures >= 20)
			break;
	}
	t->check = BT_C_TRAFFIC_COUNTS;
	bt_expect_counts(t);
}

/* A victim: a transaction the server holds until this process is dead. */
static void bt_run_delayed(struct bt_thread *t)
{
	__u32 code = bt_code(BT_OP_DELAY, t->client, t->thread, t->seq++);
	char what[120], how[200];
	struct bt_outcome o;

	bt_fill(t->buf, BT_DELAY_SIZE, bt_seed(code, BT_DELAY_SIZE));
	bt_busy(t, code, BT_DELAY_SIZE, false);
	do {
		bt_transact(t, code, 0, t->buf, BT_DELAY_SIZE, &o);
		if (o.cmd == BR_FAILED_REPLY && o.ee_param == -ENOSPC)
			spr_sleep_ms(2);
	} while (o.cmd == BR_FAILED_REPLY && o.ee_param == -ENOSPC);
	bt_idle(t);
	bt_what(code, BT_DELAY_SIZE, false, what, sizeof(what));
	bt_outcome_str(&o, how, sizeof(how));
	bt_err(BT_C_KILL_DEAD_REPLY, "%s: came back with %s while it should have been killed",
	       what, how);
}

/* The benchmark's time for one size: a third of -t, at least 1 s. */
static __s64 bt_bench_end(__s64 start)
{
	__s64 end = start + (__s64)bt_o.seconds * 1000000 / 3;

	return end < start + 1000000 ? start + 1000000 : end;
}

/*
 * Ping-pong of @size bytes on t->b until @end (us): the transactions done,
 * and *@err = -EIO once one failed (recorded in t->check).
 */
static __u64 bt_ping_pong(struct bt_thread *t, size_t size, __s64 end,
			  int *err)
{
	__u64 n = 0;

	do {
		*err = bt_call(t, BT_OP_DATA, size, false, false);
		if (*err)
			break;
		n++;
	} while (bt_now_us() < end);
	return n;
}

static void bt_run_bench(struct bt_thread *t)
{
	unsigned int i;
	__s64 start;
	int err;

	t->bench = 1;
	for (i = 0; i < BT_ARRAY_SIZE(bt_bench_sizes); i++) {
		t->check = BT_C_BENCH_64 + i;
		start = bt_now_us();
		bt_sh->bench_n[i] = bt_ping_pong(t, bt_bench_sizes[i],
						 bt_bench_end(start), &err);
		bt_sh->bench_us[i] = bt_now_us() - start;
		bt_done(t->check);
	}
}

/*
 * -A, one size: rounds of a slice on each device until the size's time is
 * up. @b[0] is -d's device, @b[1] -A's. A round's ratio is b[1]'s rate
 * over b[0]'s, in ppm. Each slice starts with no reply buffer held, so
 * that it frees none of the other device's.
 */
static void bt_alt_rounds(struct bt_thread *t, struct bt_binder *const b[2],
			  unsigned int i)
{
	size_t size = bt_bench_sizes[i];
	__s64 end = bt_bench_end(bt_now_us()), start;
	__u64 n[2], us[2];
	unsigned int r, k, side;
	int err = 0;

	for (r = 0; r < BT_ALT_MAX_ROUNDS && (!r || bt_now_us() < end); r++) {
		for (k = 0; k < 2 && !err; k++) {
			side = (r + k) & 1;
			bt_flush_free(t);
			t->b = b[side];
			start = bt_now_us();
			n[side] = bt_ping_pong(t, size, start + BT_ALT_SLICE_US,
					       &err);
			us[side] = bt_now_us() - start;
		}
		if (err)
			break;
		bt_sh->bench_n[i] += n[0];
		bt_sh->bench_us[i] += us[0];
		bt_sh->alt_n[i] += n[1];
		bt_sh->alt_us[i] += us[1];
		bt_sh->alt_ppm[i][r] = (double)n[1] * us[0] * 1e6 /
				       ((double)n[0] * us[1]) + 0.5;
		bt_sh->alt_rounds[i] = r + 1;
	}
	bt_flush_free(t);
	t->b = b[0];
}

static void bt_run_bench_alternating(struct bt_thread *t)
{
	struct bt_binder alt, *const b[2] = { t->b, &alt };
	char why[200];
	unsigned int i;
	int ret;

	bt_swap_driver();
	ret = bt_binder_open(&alt, why, sizeof(why));
	bt_swap_driver();
	if (ret) {
		bt_err(BT_C_BENCH_64, "client: %s", why);
		return;
	}
	t->bench = 1;
	for (i = 0; i < BT_ARRAY_SIZE(bt_bench_sizes); i++) {
		t->check = BT_C_BENCH_64 + i;
		bt_alt_rounds(t, b, i);
		bt_done(t->check);
	}
	munmap((void *)alt.map, BT_MAP_SIZE);
	close(alt.fd);
}

static void *bt_client_thread(void *arg)
{
	struct bt_thread *t = arg;

	t->run(t);
	bt_flush_free(t);
	bt_store_uint(&t->w->finished, 1);
	return NULL;
}

/* A client process: threads on one binder fd, each with its slot. */
static void bt_client_main(const struct bt_client *c)
{
	struct bt_binder b;
	struct bt_thread *t = calloc(c->nr_threads, sizeof(*t));
	pthread_t *th = calloc(c->nr_threads, sizeof(*th));
	unsigned int i, started = 0;
	pthread_attr_t attr;
	char why[200];
	int ret;

	if (!t || !th) {
		bt_err(c->check, "client %u: out of memory", c->id);
		_exit(1);
	}
	if (bt_binder_open(&b, why, sizeof(why))) {
		bt_err(c->check, "client %u: %s", c->id, why);
		_exit(1);
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	for (i = 0; i < c->nr_threads; i++) {
		t[i].b = &b;
		t[i].w = &bt_sh->workers[c->slot + i];
		t[i].run = c->run;
		t[i].check = c->check;
		t[i].client = c->id;
		t[i].thread = i;
		t[i].buf_size = c->buf_size;
		t[i].buf = malloc(c->buf_size);
		if (!t[i].buf) {
			bt_err(c->check, "client %u: no memory for a buffer of %zu bytes",
			       c->id, c->buf_size);
			break;
		}
		ret = pthread_create(&th[i], &attr, bt_client_thread, &t[i]);
		if (ret) {
			bt_err(c->check, "client %u: pthread_create: %s",
			       c->id, spr_errname(ret));
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	_exit(0);
}

/* fork() for a helper that dies with us. */
static pid_t bt_fork(void)
{
	pid_t pid = fork();

	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != bt_parent)
			_exit(1);
	}
	return pid;
}

static pid_t bt_spawn_client(const struct bt_client *c)
{
	pid_t pid = bt_fork();

	if (pid < 0)
		bt_err(c->check, "client %u: fork: %s", c->id,
		       spr_errname(errno));
	else if (!pid)
		bt_client_main(c);
	return pid;
}

/* The server. */

static void bt_srv_send(struct bt_srv_thread *st, struct bt_cmds *w)
{
	long n = bt_write_read(st->b->fd, w->buf, w->len, NULL, 0);

	if (n < 0)
		bt_err(BT_C_SERVER_VERIFY, "server thread %u: writing %zu bytes of commands: %s",
		       st->index, w->len, spr_errname(-n));
	w->len = 0;
}

/* Until the sender's oneway transactions are all counted, 10 s at most. */
static void bt_srv_wait_oneway(struct bt_sender *s, __u64 sent,
			       const char *what)
{
	__s64 deadline = spr_now_ms() + BT_STATS_WAIT_MS;

	while (bt_load(&s->oneway_rx) < sent) {
		if (spr_now_ms() > deadline) {
			bt_err(BT_C_SERVER_VERIFY, "server: %s: %llu of %llu oneway transactions came in %d ms",
			       what, bt_load(&s->oneway_rx), sent,
			       BT_STATS_WAIT_MS);
			return;
		}
		spr_sleep_ms(1);
	}
}

/* Hold a victim's transaction until the parent has killed it. */
static int bt_srv_hold(__u32 code, bool oneway, const char *what)
{
	unsigned int k = bt_code_client(code) - BT_ID_DELAYED;
	__s64 deadline = spr_now_ms() + 30000;

	if (oneway || k >= BT_NR_KILLS) {
		bt_err(BT_C_SERVER_VERIFY, "server: %s: not from a victim",
		       what);
		return -1;
	}
	bt_store_uint(&bt_sh->victim_seen[k], 1);
	while (!bt_load_uint(&bt_sh->victim_go[k])) {
		if (spr_now_ms() > deadline) {
			bt_err(BT_C_KILL_DEAD_REPLY, "server: %s: not told to reply in 30 s",
			       what);
			break;
		}
		spr_sleep_ms(2);
	}
	return k;
}

/*
 * A transaction: verify, free the buffer and reply in one write, at once,
 * so that the buffer is free before the client hears back. A oneway is
 * counted only once freed: a client that sees it counted may send a
 * oneway of the whole async space.
 */
static void bt_srv_transaction(struct bt_srv_thread *st,
			       const struct binder_transaction_data *tr)
{
	const __u8 *data = (const __u8 *)(uintptr_t)tr->data.ptr.buffer;
	struct bt_reply *rep = (struct bt_reply *)st->reply;
	__u32 code = tr->code;
	unsigned int op = bt_code_op(code);
	bool oneway = tr->flags & TF_ONE_WAY;
	struct bt_sender *s = &bt_sh->senders[code >> 14 & (BT_NR_SENDERS - 1)];
	struct binder_transaction_data reply;
	struct bt_cmds w = { .len = 0 };
	size_t size = tr->data_size, bad, extra = 0;
	struct bt_stats_req req;
	binder_uintptr_t ptr;
	char what[160];
	int victim = -1;

	bt_what(code, size, oneway, what, sizeof(what));
	memset(rep, 0, sizeof(*rep));
	rep->magic = BT_REPLY_MAGIC;
	rep->code = code;
	rep->size = size;
	if (data < st->b->map || size > BT_MAP_SIZE ||
	    data + size > st->b->map + BT_MAP_SIZE || tr->offsets_size) {
		bt_err(BT_C_SERVER_VERIFY, "server: %s (pid %d): buffer at offset %td, %llu bytes of offsets: outside the mapping",
		       what, tr->sender_pid, data - st->b->map,
		       tr->offsets_size);
		rep->bad = 1;
	} else if (op == BT_OP_DATA || op == BT_OP_DELAY) {
		bad = bt_verify(data, size, bt_seed(code, size));
		if (bad < size) {
			rep->bad = bad + 1;
			bt_add(&s->bad, 1);
			bt_err(BT_C_SERVER_VERIFY, "server: %s (pid %d): byte %zu is 0x%02x, expected 0x%02x (buffer at offset %td)",
			       what, tr->sender_pid, bad, data[bad],
			       bt_expected(bt_seed(code, size), bad),
			       data - st->b->map);
		}
		if (!oneway && op == BT_OP_DATA && size <= BT_ECHO_MAX) {
			memcpy(st->reply + sizeof(*rep), data, size);
			rep->echo = size;
		}
		bt_add(&bt_sh->srv_bytes, size);
	} else if (op == BT_OP_STATS && !oneway && size == sizeof(req)) {
		memcpy(&req, data, sizeof(req));
		if (req.magic != BT_STATS_MAGIC)
			bt_err(BT_C_SERVER_VERIFY, "server: %s: magic 0x%08x",
			       what, req.magic);
		else
			bt_srv_wait_oneway(s, req.oneway_sent, what);
	} else {
		bt_err(BT_C_SERVER_VERIFY, "server: %s (pid %d): not a transaction of this program",
		       what, tr->sender_pid);
	}
	if (!oneway && op == BT_OP_DATA)
		bt_add(&s->sync_rx, 1);
	if (op == BT_OP_DELAY) {
		victim = bt_srv_hold(code, oneway, what);
		/* A size of its own, to find it in the failed log. */
		extra = victim >= 0 ? 8 * (victim + 1) : 0;
		memset(st->reply + sizeof(*rep), 0, extra);
	}
	rep->sync_rx = bt_load(&s->sync_rx);
	rep->oneway_rx = bt_load(&s->oneway_rx);
	rep->bad_rx = bt_load(&s->bad);

	ptr = tr->data.ptr.buffer;
	bt_put(&w, BC_FREE_BUFFER, &ptr, sizeof(ptr));
	if (!oneway) {
		memset(&reply, 0, sizeof(reply));
		reply.code = code;
		reply.data_size = sizeof(*rep) + rep->echo + extra;
		reply.data.ptr.buffer = (binder_uintptr_t)(uintptr_t)st->reply;
		bt_put(&w, BC_REPLY, &reply, sizeof(reply));
		st->pending = 1;
		st->pending_victim = victim;
	}
	bt_srv_send(st, &w);
	if (oneway) {
		if (op == BT_OP_DATA)
			bt_add(&s->oneway_rx, 1);
		bt_add(&bt_sh->srv_oneway, 1);
	} else {
		bt_add(&bt_sh->srv_sync, 1);
	}
}

/* What became of the last BC_REPLY. */
static void bt_srv_reply_done(struct bt_srv_thread *st, __u32 cmd)
{
	if (!st->pending) {
		bt_err(BT_C_SERVER_VERIFY, "server thread %u: %s with no reply or transaction pending",
		       st->index, bt_brname(cmd));
		return;
	}
	st->pending = 0;
	if (cmd == BR_TRANSACTION_COMPLETE)
		bt_add(&bt_sh->srv_complete, 1);
	else if (cmd == BR_DEAD_REPLY)
		bt_add(&bt_sh->srv_dead, 1);
	else
		bt_add(&bt_sh->srv_failed, 1);
	if (st->pending_victim >= 0) {
		__atomic_store_n(&bt_sh->victim_result[st->pending_victim], cmd,
				 __ATOMIC_RELEASE);
		st->pending_victim = -1;
	} else if (cmd != BR_TRANSACTION_COMPLETE && cmd != BR_DEAD_REPLY) {
		/* A dead client's reply is expected after random kills. */
		bt_err(BT_C_SERVER_VERIFY, "server thread %u: BC_REPLY got %s",
		       st->index, bt_brname(cmd));
	}
}

/* References on the context manager's node: acknowledge them. */
static void bt_srv_ref(struct bt_srv_thread *st, __u32 cmd, const __u8 *arg)
{
	struct binder_ptr_cookie pc;
	struct bt_cmds w = { .len = 0 };

	memcpy(&pc, arg, sizeof(pc));
	bt_put(&w, cmd == BR_INCREFS ? BC_INCREFS_DONE : BC_ACQUIRE_DONE, &pc,
	       sizeof(pc));
	bt_srv_send(st, &w);
	bt_add(&bt_sh->srv_refs, 1);
}

static void bt_srv_parse(struct bt_srv_thread *st, const __u8 *rb, size_t n)
{
	struct binder_transaction_data tr;
	size_t off, size_arg;
	__u32 cmd;

	for (off = 0; off + sizeof(cmd) <= n; off += size_arg) {
		memcpy(&cmd, rb + off, sizeof(cmd));
		off += sizeof(cmd);
		size_arg = _IOC_SIZE(cmd);
		if (off + size_arg > n) {
			bt_err(BT_C_SERVER_VERIFY, "server thread %u: %s (0x%08x) cut short at byte %zu of %zu read",
			       st->index, bt_brname(cmd), cmd, off, n);
			return;
		}
		switch (cmd) {
		case BR_NOOP:
		case BR_OK:
		case BR_FINISHED:
			break;
		case BR_SPAWN_LOOPER:
			bt_add(&bt_sh->srv_spawn, 1);
			break;
		case BR_TRANSACTION:
			memcpy(&tr, rb + off, sizeof(tr));
			bt_srv_transaction(st, &tr);
			break;
		case BR_TRANSACTION_COMPLETE:
		case BR_DEAD_REPLY:
		case BR_FAILED_REPLY:
		case BR_FROZEN_REPLY:
			bt_srv_reply_done(st, cmd);
			break;
		case BR_INCREFS:
		case BR_ACQUIRE:
			bt_srv_ref(st, cmd, rb + off);
			break;
		case BR_RELEASE:
		case BR_DECREFS:
			bt_add(&bt_sh->srv_refs, 1);
			break;
		default:
			bt_err(BT_C_SERVER_VERIFY, "server thread %u: unexpected %s (0x%08x)",
			       st->index, bt_brname(cmd), cmd);
			break;
		}
	}
}

static void *bt_srv_loop(void *arg)
{
	struct bt_srv_thread *st = arg;
	struct bt_cmds w = { .len = 0 };
	unsigned int errors = 0;
	__u64 rbuf[128];
	long n;

	bt_put(&w, BC_ENTER_LOOPER, NULL, 0);
	for (;;) {
		n = bt_write_read(st->b->fd, w.buf, w.len, rbuf, sizeof(rbuf));
		w.len = 0;
		if (n < 0) {
			bt_err(BT_C_SERVER_VERIFY, "server thread %u: BINDER_WRITE_READ: %s",
			       st->index, spr_errname(-n));
			if (++errors >= 10)
				return NULL;
			spr_sleep_ms(100);
			continue;
		}
		bt_srv_parse(st, (const __u8 *)rbuf, n);
	}
}

static int bt_set_context_mgr(int fd)
{
	struct flat_binder_object fbo;
	__s64 deadline = spr_now_ms() + 5000;
	__s32 zero = 0;
	int ret;

	memset(&fbo, 0, sizeof(fbo));
	fbo.hdr.type = BINDER_TYPE_BINDER;
	for (;;) {
		ret = ioctl(fd, BINDER_SET_CONTEXT_MGR_EXT, &fbo) ? -errno : 0;
		if (ret == -EINVAL)
			ret = ioctl(fd, BINDER_SET_CONTEXT_MGR, &zero) ?
			      -errno : 0;
		/* The previous manager's release is deferred work. */
		if (ret != -EBUSY || spr_now_ms() > deadline)
			return ret;
		spr_sleep_ms(50);
	}
}

static void bt_server_main(unsigned int nr_threads)
{
	struct bt_srv_thread *st = calloc(nr_threads, sizeof(*st));
	struct bt_binder b;
	pthread_attr_t attr;
	unsigned int i;
	__u32 max = 0;
	pthread_t th;
	char why[200];
	int ret;

	if (!st) {
		bt_err(BT_C_SERVER_SETUP, "server: out of memory");
		goto fail;
	}
	if (bt_binder_open(&b, why, sizeof(why))) {
		bt_err(BT_C_SERVER_SETUP, "server: %s", why);
		goto fail;
	}
	/* Its threads are all there from the start: no BR_SPAWN_LOOPER. */
	if (ioctl(b.fd, BINDER_SET_MAX_THREADS, &max)) {
		bt_err(BT_C_SERVER_SETUP, "server: BINDER_SET_MAX_THREADS: %s",
		       spr_errname(errno));
		goto fail;
	}
	ret = bt_set_context_mgr(b.fd);
	if (ret) {
		bt_err(BT_C_SERVER_SETUP, "server: BINDER_SET_CONTEXT_MGR_EXT: %s",
		       spr_errname(-ret));
		goto fail;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < nr_threads; i++) {
		st[i].b = &b;
		st[i].index = i;
		st[i].pending_victim = -1;
		st[i].reply = malloc(sizeof(struct bt_reply) + BT_ECHO_MAX);
		ret = st[i].reply ? pthread_create(&th, &attr, bt_srv_loop,
						   &st[i]) : ENOMEM;
		if (ret) {
			bt_err(BT_C_SERVER_SETUP, "server: thread %u of %u: %s",
			       i, nr_threads, spr_errname(ret));
			goto fail;
		}
	}
	bt_done(BT_C_SERVER_SETUP);
	__atomic_store_n(&bt_sh->server_state, 1, __ATOMIC_RELEASE);
	/* The parent kills us at the end. */
	for (;;)
		pause();
fail:
	__atomic_store_n(&bt_sh->server_state, -1, __ATOMIC_RELEASE);
	_exit(1);
}

/* The parent. */

/* "thread 1 has waited 2300 ms in the driver for client 3 thread 1 ..." */
static void bt_describe_slots(unsigned int slot, unsigned int n, char *buf,
			      size_t len)
{
	struct bt_worker *w;
	char what[120];
	unsigned int i;
	__s64 since;

	for (i = 0; i < n; i++) {
		w = &bt_sh->workers[slot + i];
		since = __atomic_load_n(&w->busy_since, __ATOMIC_ACQUIRE);
		if (!since)
			continue;
		bt_what(w->busy_code, w->busy_size, w->busy_oneway, what,
			sizeof(what));
		snprintf(buf, len, "thread %u has waited %lld ms in the driver for %s",
			 i, spr_now_ms() - since, what);
		return;
	}
	snprintf(buf, len, "no thread was in the driver");
}

/*
 * Wait for a child until @deadline; on a timeout, tell what its threads
 * wait for, kill it and reap it. Failures go to check @id.
 */
static int bt_wait_child(pid_t pid, __s64 deadline, enum bt_check_id id,
			 const char *who, unsigned int slot, unsigned int n)
{
	char how[64], busy[200];
	int status = 0;
	pid_t ret;

	if (pid <= 0)
		return -1;
	for (;;) {
		ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			break;
		if (ret < 0 && errno != EINTR) {
			bt_err(id, "%s: waitpid: %s", who, spr_errname(errno));
			return -1;
		}
		if (spr_now_ms() >= deadline) {
			bt_describe_slots(slot, n, busy, sizeof(busy));
			bt_err(id, "%s hung: %s; killed", who, busy);
			kill(pid, SIGKILL);
			deadline = spr_now_ms() + 5000;
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR &&
			       spr_now_ms() < deadline)
				;
			return -1;
		}
		spr_sleep_ms(10);
	}
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	bt_err(id, "%s: %s", who, bt_status_str(status, how, sizeof(how)));
	return -1;
}

/* Kill @pid, reap it, and wait for binder to release its process. */
static int bt_kill_reap(pid_t pid, enum bt_check_id id, const char *who)
{
	__s64 deadline = spr_now_ms() + 5000;
	char how[64];
	int status;
	pid_t ret;

	kill(pid, SIGKILL);
	for (;;) {
		ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			break;
		if ((ret < 0 && errno != EINTR) || spr_now_ms() > deadline) {
			bt_err(id, "%s: not reaped 5 s after SIGKILL", who);
			return -1;
		}
		spr_sleep_ms(5);
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		bt_err(id, "%s: %s, expected SIGKILL", who,
		       bt_status_str(status, how, sizeof(how)));
		return -1;
	}
	/* binder_release() leaves the rest to a work item. */
	deadline = spr_now_ms() + 5000;
	while (bt_binder_has_proc(pid)) {
		if (spr_now_ms() > deadline) {
			bt_err(id, "%s: binder still lists process %d 5 s after its death",
			       who, pid);
			return -1;
		}
		spr_sleep_ms(5);
	}
	return 0;
}

static bool bt_open_check(void)
{
	struct bt_binder b;
	char why[200];

	if (bt_binder_open(&b, why, sizeof(why))) {
		bt_err(BT_C_OPEN, "%s", why);
	} else {
		munmap((void *)b.map, BT_MAP_SIZE);
		close(b.fd);
	}
	bt_done(BT_C_OPEN);
	bt_check_end(BT_C_OPEN);
	return !bt_failed(BT_C_OPEN);
}

static pid_t bt_start_server(unsigned int nr_threads)
{
	__s64 deadline = spr_now_ms() + 10000;
	pid_t pid = bt_fork();
	int state;

	if (pid < 0) {
		bt_err(BT_C_SERVER_SETUP, "fork: %s", spr_errname(errno));
		return pid;
	}
	if (!pid)
		bt_server_main(nr_threads);
	while (!(state = __atomic_load_n(&bt_sh->server_state,
					 __ATOMIC_ACQUIRE)) &&
	       spr_now_ms() < deadline)
		spr_sleep_ms(5);
	if (!state)
		bt_err(BT_C_SERVER_SETUP, "server not ready in 10 s");
	bt_metric("binder_server_threads", nr_threads);
	return pid;
}

static bool bt_server_ready(void)
{
	return __atomic_load_n(&bt_sh->server_state, __ATOMIC_ACQUIRE) == 1;
}

/* -A: its driver's server, once -d's is ready. */
static pid_t bt_start_alt_server(unsigned int nr_threads)
{
	pid_t pid;

	__atomic_store_n(&bt_sh->server_state, 0, __ATOMIC_RELEASE);
	bt_swap_driver();
	pid = bt_start_server(nr_threads);
	bt_swap_driver();
	return pid;
}

static void bt_kill_wait(pid_t pid)
{
	int status;

	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

static void bt_print_pages(const struct bt_pages *p, const char *suffix)
{
	char name[80];

	snprintf(name, sizeof(name), "binder_pages_active%s", suffix);
	bt_metric(name, p->active);
	snprintf(name, sizeof(name), "binder_pages_lru%s", suffix);
	bt_metric(name, p->lru);
	snprintf(name, sizeof(name), "binder_pages_free%s", suffix);
	bt_metric(name, p->free);
	snprintf(name, sizeof(name), "binder_pages_high_watermark%s", suffix);
	bt_metric(name, p->high);
}

static void bt_pages_metrics(pid_t server, const char *suffix)
{
	struct bt_pages p = { -1, -1, -1, -1, -1 };

	bt_binder_pages(server, &p);
	bt_print_pages(&p, suffix);
}

static void bt_run_phase(const struct bt_client *c, const char *who,
			 unsigned int seconds)
{
	pid_t pid = bt_spawn_client(c);

	bt_wait_child(pid, spr_now_ms() + seconds * 1000LL, c->check, who,
		      c->slot, c->nr_threads);
}

static void bt_sizes_phase(pid_t server)
{
	struct bt_client c = {
		.id = BT_ID_SIZES,
		.nr_threads = 1,
		.slot = BT_SLOT_SIZES,
		.check = BT_C_SIZES_SYNC,
		.buf_size = BT_MAP_SIZE + BT_PAGE_SIZE,
		.run = bt_run_sizes,
	};
	__s64 start = spr_now_ms();

	bt_run_phase(&c, "the sizes client", 120);
	bt_metric("binder_sizes_ms", spr_now_ms() - start);
	bt_pages_metrics(server, "_after_sizes");
	bt_check_end(BT_C_SIZES_SYNC);
	bt_check_end(BT_C_SIZES_ONEWAY);
	bt_check_end(BT_C_LIMITS_SYNC);
	bt_check_end(BT_C_LIMITS_ONEWAY);
	bt_check_end(BT_C_OVER_LIMIT_SYNC);
	bt_check_end(BT_C_OVER_LIMIT_ONEWAY);
}

/* Pause traffic, wait for the server to hold no buffer, drop caches. */
static void bt_reclaim_drop(pid_t server)
{
	__s64 deadline = spr_now_ms() + 15000;
	struct bt_pages p0 = { -1, -1, -1, -1, -1 }, p1 = p0;
	struct bt_mstats m0, m1;
	unsigned int i, t, busy;
	int ret = 0, mret, have_m0, have_m1;
	struct bt_worker *w;

	bt_store_uint(&bt_sh->pause, 1);
	do {
		busy = 0;
		for (i = 0; i < bt_o.clients; i++)
			for (t = 0; t < bt_o.threads; t++) {
				w = &bt_sh->workers[i * BT_MAX_THREADS + t];
				busy += !bt_load_uint(&w->paused) &&
					!bt_load_uint(&w->finished);
			}
		if (busy)
			spr_sleep_ms(5);
	} while (busy && spr_now_ms() < deadline);
	if (busy) {
		bt_err(BT_C_RECLAIM_DROP, "%u traffic threads did not pause in 15 s",
		       busy);
		goto out;
	}
	/* Oneway transactions may still be queued: let them drain. */
	deadline = spr_now_ms() + 5000;
	while ((ret = bt_binder_pages(server, &p0)) == 0 &&
	       (p0.buffers || p0.active) && spr_now_ms() < deadline)
		spr_sleep_ms(5);
	if (ret) {
		bt_err(BT_C_RECLAIM_DROP, "%s/stats, proc %d: %s",
		       bt_o.binder_debugfs, server, spr_errname(-ret));
		goto out;
	}
	mret = bt_module_stats(&m0);
	have_m0 = !mret;
	ret = spr_write_file("/proc/sys/vm/drop_caches", "3");
	have_m1 = !bt_module_stats(&m1);
	if (ret)
		bt_err(BT_C_RECLAIM_DROP, "writing 3 to /proc/sys/vm/drop_caches: %s",
		       spr_errname(-ret));
	ret = bt_binder_pages(server, &p1);
	if (ret)
		bt_err(BT_C_RECLAIM_DROP, "%s/stats, proc %d: %s",
		       bt_o.binder_debugfs, server, spr_errname(-ret));
	else if (p0.lru <= 0 || p1.lru >= p0.lru || p0.buffers || p0.active)
		bt_err(BT_C_RECLAIM_DROP, "the server's pages (active:lru:free) went from %ld:%ld:%ld to %ld:%ld:%ld across drop_caches, with %ld buffers held; expected fewer lru pages",
		       p0.active, p0.lru, p0.free, p1.active, p1.lru, p1.free,
		       p0.buffers);
	bt_metric("binder_pages_lru_before_drop", p0.lru);
	bt_metric("binder_pages_lru_after_drop", p1.lru);
	bt_metric("binder_pages_free_after_drop", p1.free);
	bt_metric("binder_module_reclaimed_by_drop",
		  have_m0 && have_m1 ? m1.reclaimed - m0.reclaimed : -1);
	if (bt_o.module) {
		if (!have_m0 || !have_m1)
			bt_err(BT_C_MODULE_RECLAIMED, "cannot read %s: %s",
			       bt_o.stats_path, spr_errname(-mret));
		else if (m1.reclaimed <= m0.reclaimed)
			bt_err(BT_C_MODULE_RECLAIMED, "reclaimed stayed at %ld across drop_caches (available %ld before, %ld after)",
			       m0.reclaimed, m0.available, m1.available);
		bt_done(BT_C_MODULE_RECLAIMED);
	}
	bt_done(BT_C_RECLAIM_DROP);
out:
	bt_store_uint(&bt_sh->epoch, 1);
	bt_store_uint(&bt_sh->pause, 0);
}

/*
 * Take @target_mib of memory in chunks (MAP_POPULATE: one call faults a
 * chunk in, far faster under TCG than a store per page), keeping the
 * margin, until @deadline (ms); hold it a while, then exit.
 */
static void bt_hog(long target_mib, __s64 deadline)
{
	size_t chunk = BT_HOG_CHUNK_MIB << 20;
	long mib;
	void *p;

	spr_write_file("/proc/self/oom_score_adj", "1000");
	for (mib = 0; mib + BT_HOG_CHUNK_MIB <= target_mib &&
	     spr_now_ms() < deadline; mib += BT_HOG_CHUNK_MIB) {
		/* Others use memory too: re-read the margin each time. */
		if (spr_meminfo_kb("MemAvailable") / 1024 <
		    BT_HOG_MARGIN_MIB + BT_HOG_CHUNK_MIB)
			break;
		p = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED)
			break;
		__atomic_store_n(&bt_sh->hog_mib, mib + BT_HOG_CHUNK_MIB,
				 __ATOMIC_RELEASE);
	}
	spr_sleep_ms(500);
	_exit(0);
}

/*
 * Memory pressure beside the traffic: a hog takes MemAvailable but
 * BT_HOG_MARGIN_MIB, for BT_HOG_ALLOC_MS at most, while the parent writes 3
 * to drop_caches every second.
 */
static void bt_reclaim_hog(pid_t server)
{
	long avail_mib = spr_meminfo_kb("MemAvailable") / 1024;
	long target = avail_mib - BT_HOG_MARGIN_MIB;
	__s64 start = spr_now_ms(), deadline = start + BT_HOG_MAX_MS;
	struct bt_mstats m0, m1;
	unsigned int drops = 0, i;
	int status, ret, have_m0 = !bt_module_stats(&m0);
	char how[64];
	pid_t pid;

	if (target < 0)
		target = 0;
	pid = bt_fork();
	if (pid < 0) {
		bt_err(BT_C_RECLAIM_HOG, "fork: %s", spr_errname(errno));
		goto out;
	}
	if (!pid)
		bt_hog(target, start + BT_HOG_ALLOC_MS);
	for (i = 0;; i++) {
		if (!(i % 20)) {
			ret = spr_write_file("/proc/sys/vm/drop_caches", "3");
			if (ret)
				bt_err(BT_C_RECLAIM_HOG, "writing 3 to /proc/sys/vm/drop_caches: %s",
				       spr_errname(-ret));
			drops++;
		}
		spr_sleep_ms(50);
		ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			break;
		if ((ret < 0 && errno != EINTR) || spr_now_ms() > deadline) {
			bt_err(BT_C_RECLAIM_HOG, "the hog still ran after %d ms, at %llu of %ld MiB",
			       BT_HOG_MAX_MS, bt_load(&bt_sh->hog_mib),
			       target);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			goto out;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		bt_err(BT_C_RECLAIM_HOG, "the hog ended with %s at %llu of %ld MiB (the OOM killer? see dmesg)",
		       bt_status_str(status, how, sizeof(how)),
		       bt_load(&bt_sh->hog_mib), target);
out:
	bt_metric("binder_hog_available_mib", avail_mib);
	bt_metric("binder_hog_target_mib", target);
	bt_metric("binder_hog_mib", bt_load(&bt_sh->hog_mib));
	bt_metric("binder_hog_ms", spr_now_ms() - start);
	bt_metric("binder_hog_drop_caches", drops);
	bt_metric("binder_module_reclaimed_by_hog",
		  have_m0 && !bt_module_stats(&m1) ?
		  m1.reclaimed - m0.reclaimed : -1);
	bt_pages_metrics(server, "_after_hog");
	bt_done(BT_C_RECLAIM_HOG);
	bt_store_uint(&bt_sh->epoch, 2);
}

/* Victims: how their ends went, for the metrics. */
static unsigned int bt_victim_complete;
static unsigned int bt_victim_dead;
static unsigned int bt_random_busy;

/*
 * A victim whose transaction the server holds: kill it, wait for binder to
 * release it, then let the server reply. binder 6.12 answers a BC_REPLY to
 * a dead client with BR_TRANSACTION_COMPLETE (the error goes to the caller,
 * which is gone) and logs the reply in failed_transaction_log as
 * BR_DEAD_REPLY: that entry shows that the reply found its target dead.
 */
static void bt_kill_delayed(unsigned int k, pid_t server)
{
	struct bt_client c = {
		.id = BT_ID_DELAYED + k,
		.nr_threads = 1,
		.slot = BT_SLOT_DELAYED + k,
		.check = BT_C_KILL_DEAD_REPLY,
		.buf_size = BT_DELAY_SIZE,
		.run = bt_run_delayed,
	};
	__s64 deadline = spr_now_ms() + 10000;
	char who[64], busy[200];
	__u32 result = 0;
	pid_t pid;
	int ret;

	snprintf(who, sizeof(who), "delayed victim %u", k);
	pid = bt_spawn_client(&c);
	if (pid < 0)
		goto out;
	while (!bt_load_uint(&bt_sh->victim_seen[k]) && spr_now_ms() < deadline)
		spr_sleep_ms(2);
	if (!bt_load_uint(&bt_sh->victim_seen[k])) {
		bt_describe_slots(c.slot, 1, busy, sizeof(busy));
		bt_err(c.check, "%s: the server did not get its transaction in 10 s: %s",
		       who, busy);
		bt_kill_reap(pid, c.check, who);
		goto out;
	}
	if (bt_kill_reap(pid, c.check, who))
		goto out;
	/* binder_deferred_release() unlists the process first: a margin. */
	spr_sleep_ms(100);
	bt_store_uint(&bt_sh->victim_go[k], 1);
	deadline = spr_now_ms() + 10000;
	while (!(result = __atomic_load_n(&bt_sh->victim_result[k],
					  __ATOMIC_ACQUIRE)) &&
	       spr_now_ms() < deadline)
		spr_sleep_ms(2);
	if (!result) {
		bt_err(c.check, "%s: the server's BC_REPLY got no answer in 10 s",
		       who);
	} else if (result != BR_TRANSACTION_COMPLETE &&
		   result != BR_DEAD_REPLY) {
		bt_err(c.check, "%s: the server's BC_REPLY to the dead client got %s",
		       who, bt_brname(result));
	} else {
		bt_victim_complete += result == BR_TRANSACTION_COMPLETE;
		bt_victim_dead += result == BR_DEAD_REPLY;
		ret = bt_dead_reply_logged(server,
					   sizeof(struct bt_reply) + 8 * (k + 1));
		if (ret < 0)
			bt_err(c.check, "%s: %s/failed_transaction_log: %s",
			       who, bt_o.binder_debugfs, spr_errname(-ret));
		else if (!ret)
			bt_err(c.check, "%s: the server's reply (answered by %s) is not in failed_transaction_log as BR_DEAD_REPLY: did it reach the dead process?",
			       who, bt_brname(result));
	}
out:
	/* Never leave a server thread waiting. */
	bt_store_uint(&bt_sh->victim_go[k], 1);
}

/* A client killed at a random point of its traffic. */
static void bt_kill_random(unsigned int k)
{
	struct bt_client c = {
		.id = BT_ID_RANDOM + k,
		.nr_threads = 1,
		.slot = BT_SLOT_RANDOM + k,
		.check = BT_C_KILL_RANDOM,
		.buf_size = bt_sync_cap + BT_PAGE_SIZE,
		.run = bt_run_traffic,
	};
	struct bt_worker *w = &bt_sh->workers[c.slot];
	__s64 deadline = spr_now_ms() + 10000;
	char who[64];
	pid_t pid;

	snprintf(who, sizeof(who), "random victim %u", k);
	pid = bt_spawn_client(&c);
	if (pid < 0)
		return;
	while (bt_load(&w->sync_ok) + bt_load(&w->oneway_sent) < 3 &&
	       spr_now_ms() < deadline)
		spr_sleep_ms(2);
	if (bt_load(&w->sync_ok) + bt_load(&w->oneway_sent) < 3)
		bt_err(c.check, "%s: fewer than 3 transactions in 10 s", who);
	spr_sleep_ms(bt_mix(k) % 40);
	bt_random_busy += !!__atomic_load_n(&w->busy_since, __ATOMIC_ACQUIRE);
	bt_kill_reap(pid, c.check, who);
}

static void bt_at(__s64 start, __s64 duration, unsigned int percent)
{
	bt_sleep_until(start + duration * percent / 100);
}

static void bt_traffic_phase(pid_t server)
{
	struct bt_client c = {
		.nr_threads = bt_o.threads,
		.check = BT_C_TRAFFIC,
		.buf_size = bt_sync_cap + BT_PAGE_SIZE,
		.run = bt_run_traffic,
	};
	__u64 sync = 0, oneway = 0, bytes = 0, enospc = 0, drop = 0, hog = 0;
	__s64 start = spr_now_ms(), duration = bt_o.seconds * 1000LL, end;
	pid_t pids[BT_MAX_CLIENTS];
	struct bt_worker *w;
	unsigned int i, t;
	char who[64];

	bt_metric("binder_traffic_sync_cap", bt_sync_cap);
	bt_metric("binder_traffic_oneway_cap", bt_oneway_cap);
	for (i = 0; i < bt_o.clients; i++) {
		c.id = BT_ID_TRAFFIC + i;
		c.slot = i * BT_MAX_THREADS;
		pids[i] = bt_spawn_client(&c);
	}
	if (bt_o.kill) {
		bt_at(start, duration, 10);
		bt_kill_delayed(0, server);
	}
	if (bt_o.reclaim) {
		bt_at(start, duration, 20);
		bt_reclaim_drop(server);
	}
	if (bt_o.kill) {
		bt_at(start, duration, 30);
		bt_kill_random(0);
	}
	if (bt_o.reclaim) {
		bt_at(start, duration, 35);
		bt_reclaim_hog(server);
	}
	if (bt_o.kill) {
		bt_at(start, duration, 50);
		bt_kill_delayed(1, server);
		bt_at(start, duration, 60);
		bt_kill_random(1);
		bt_at(start, duration, 70);
		bt_kill_delayed(2, server);
		bt_at(start, duration, 80);
		bt_kill_random(2);
	}
	/* At least a second of traffic after the last event. */
	end = start + duration;
	if (end < spr_now_ms() + 1000)
		end = spr_now_ms() + 1000;
	bt_sleep_until(end);
	bt_store_uint(&bt_sh->stop, 1);
	end = spr_now_ms() + BT_CHILD_GRACE_MS;
	for (i = 0; i < bt_o.clients; i++) {
		snprintf(who, sizeof(who), "traffic client %u", i + 1);
		bt_wait_child(pids[i], end, BT_C_TRAFFIC, who,
			      i * BT_MAX_THREADS, bt_o.threads);
	}
	duration = spr_now_ms() - start;
	for (i = 0; i < bt_o.clients; i++)
		for (t = 0; t < bt_o.threads; t++) {
			w = &bt_sh->workers[i * BT_MAX_THREADS + t];
			sync += w->sync_ok;
			oneway += w->oneway_sent;
			bytes += w->bytes;
			enospc += w->enospc;
			drop += w->after_drop;
			hog += w->after_hog;
			if (!w->finished)
				bt_err(BT_C_TRAFFIC_COUNTS, "traffic client %u thread %u did not finish",
				       i + 1, t);
		}
	if (!sync)
		bt_err(BT_C_TRAFFIC, "no synchronous transaction verified in %lld ms",
		       duration);
	bt_done(BT_C_TRAFFIC);
	bt_done(BT_C_TRAFFIC_COUNTS);
	bt_metric("binder_traffic_ms", duration);
	bt_metric("binder_traffic_sync", sync);
	bt_metric("binder_traffic_oneway", oneway);
	bt_metric("binder_traffic_bytes", bytes);
	bt_metric("binder_traffic_tps", (sync + oneway) * 1000 / duration);
	bt_metric("binder_traffic_enospc_retries", enospc);
	if (bt_o.reclaim) {
		if (!drop || !hog)
			bt_err(BT_C_AFTER_RECLAIM, "transactions verified after drop_caches: %llu, after the hog: %llu; expected some of each",
			       drop, hog);
		bt_done(BT_C_AFTER_RECLAIM);
		bt_metric("binder_traffic_after_drop", drop);
		bt_metric("binder_traffic_after_hog", hog);
		bt_check_end(BT_C_RECLAIM_DROP);
		if (bt_o.module)
			bt_check_end(BT_C_MODULE_RECLAIMED);
		bt_check_end(BT_C_RECLAIM_HOG);
		bt_check_end(BT_C_AFTER_RECLAIM);
	}
	if (bt_o.kill) {
		bt_done(BT_C_KILL_DEAD_REPLY);
		bt_done(BT_C_KILL_RANDOM);
		bt_metric("binder_kill_reply_complete", bt_victim_complete);
		bt_metric("binder_kill_reply_dead", bt_victim_dead);
		bt_metric("binder_kill_random_in_driver", bt_random_busy);
		bt_check_end(BT_C_KILL_DEAD_REPLY);
		bt_check_end(BT_C_KILL_RANDOM);
	}
	bt_check_end(BT_C_TRAFFIC);
	bt_check_end(BT_C_TRAFFIC_COUNTS);
}

static void bt_after_phase(void)
{
	struct bt_client c = {
		.id = BT_ID_AFTER,
		.nr_threads = 1,
		.slot = BT_SLOT_AFTER,
		.check = BT_C_AFTER_SIZES,
		.buf_size = BT_ECHO_MAX + BT_PAGE_SIZE,
		.run = bt_run_after,
	};

	bt_run_phase(&c, "the after client", 120);
	bt_check_end(BT_C_AFTER_SIZES);
}

/*
 * -A, size @i: -A's device's rate, then each round's ratio, a line a
 * round in the order run, for scripts/binder_alternate.py to pool.
 */
static void bt_alt_metrics(unsigned int i)
{
	unsigned int r, rounds = bt_sh->alt_rounds[i];
	size_t size = bt_bench_sizes[i];
	__u64 n = bt_sh->alt_n[i], us = bt_sh->alt_us[i];
	char name[64];

	if (!rounds)
		bt_err(BT_C_BENCH_64 + i, "no round of the two devices completed");
	snprintf(name, sizeof(name), "binder_alt_tps_%zu", size);
	bt_metric(name, us ? n * 1000000 / us : 0);
	snprintf(name, sizeof(name), "binder_alt_rounds_%zu", size);
	bt_metric(name, rounds);
	snprintf(name, sizeof(name), "binder_alt_round_ppm_%zu", size);
	for (r = 0; r < rounds; r++)
		bt_metric(name, bt_sh->alt_ppm[i][r]);
}

static void bt_bench_phase(void)
{
	struct bt_client c = {
		.id = BT_ID_BENCH,
		.nr_threads = 1,
		.slot = BT_SLOT_BENCH,
		.check = BT_C_BENCH_64,
		.buf_size = BT_ECHO_MAX + BT_PAGE_SIZE,
		.run = bt_o.alt_dev ? bt_run_bench_alternating : bt_run_bench,
	};
	char name[64];
	unsigned int i;
	__u64 n, us;

	bt_run_phase(&c, "the benchmark client", bt_o.seconds + 120);
	for (i = 0; i < BT_ARRAY_SIZE(bt_bench_sizes); i++) {
		n = bt_sh->bench_n[i];
		us = bt_sh->bench_us[i];
		if (!n)
			bt_err(BT_C_BENCH_64 + i, "no transaction completed");
		snprintf(name, sizeof(name), "binder_tps_%zu", bt_bench_sizes[i]);
		bt_metric(name, us ? n * 1000000 / us : 0);
		snprintf(name, sizeof(name), "binder_bench_us_%zu",
			 bt_bench_sizes[i]);
		bt_metric(name, n ? (long long)(us / n) : -1);
		snprintf(name, sizeof(name), "binder_bench_n_%zu",
			 bt_bench_sizes[i]);
		bt_metric(name, n);
		if (bt_o.alt_dev)
			bt_alt_metrics(i);
	}
	for (i = 0; i < BT_ARRAY_SIZE(bt_bench_sizes); i++)
		bt_check_end(BT_C_BENCH_64 + i);
}

/* MemFree in kB: the median of three reads 100 ms apart; 0 if unreadable. */
static long bt_memfree_kb(void)
{
	long kb[3], lo, hi;
	unsigned int i;

	for (i = 0; i < BT_ARRAY_SIZE(kb); i++) {
		if (i)
			spr_sleep_ms(100);
		kb[i] = spr_meminfo_kb("MemFree");
		if (!kb[i])
			return 0;
	}
	lo = kb[0] < kb[1] ? kb[0] : kb[1];
	hi = kb[0] < kb[1] ? kb[1] : kb[0];
	return kb[2] < lo ? lo : kb[2] > hi ? hi : kb[2];
}

/*
 * Room for @nr more descriptors, and a descriptor table that holds them
 * already, so that its growth is not counted as binder's. 0 or -errno.
 */
static int bt_mem_nofile(unsigned int nr)
{
	rlim_t need = nr + 64;
	struct rlimit rl;
	int fd, dup;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = need;
		if (rl.rlim_max < need)
			rl.rlim_max = need;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return -errno;
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		dup = fcntl(fd, F_DUPFD_CLOEXEC, (int)nr + 32);
		if (dup >= 0)
			close(dup);
		close(fd);
	}
	return 0;
}

/* -M: the per-process state of binder, mapped; its descriptors. */
static struct bt_binder bt_mem_procs[BT_MEM_MAX_PROCS];

/*
 * The kernel memory of one binder_proc with its 4 MiB mapped (binder's
 * page metadata for the mapping above all), by MemFree: before and after
 * this process opens, maps and asks BINDER_VERSION of bt_o.mem_procs of
 * them, and once they are released again.
 */
static void bt_mem_phase(void)
{
	unsigned int i, n, nr = bt_o.mem_procs;
	long before, after, released;
	char why[200];
	__s64 deadline;
	int err;

	/* Touch what this phase needs before the first count. */
	for (i = 0; i < nr; i++) {
		bt_mem_procs[i].fd = -1;
		bt_mem_procs[i].map = NULL;
	}
	err = bt_mem_nofile(nr);
	if (err)
		bt_err(BT_C_PROC_MEM, "raising RLIMIT_NOFILE to %u: %s",
		       nr + 64, spr_errname(-err));
	sync();
	spr_write_file("/proc/sys/vm/drop_caches", "3");
	spr_sleep_ms(200);
	before = bt_memfree_kb();

	for (n = 0; n < nr; n++) {
		if (bt_binder_open(&bt_mem_procs[n], why, sizeof(why))) {
			bt_err(BT_C_PROC_MEM, "binder_proc %u (of %u, from 0): %s",
			       n, nr, why);
			break;
		}
	}
	spr_sleep_ms(200);
	after = bt_memfree_kb();
	bt_metric("binder_proc_mem_count", n);
	bt_metric("binder_proc_mem_before_kb", before);
	bt_metric("binder_proc_mem_after_kb", after);
	bt_metric("binder_proc_mem_bytes_per_proc",
		  n && before && after ? (before - after) * 1024 / n : -1);

	/* binder releases a binder_proc in deferred work: wait for it. */
	for (i = 0; i < n; i++) {
		munmap((void *)bt_mem_procs[i].map, BT_MAP_SIZE);
		close(bt_mem_procs[i].fd);
	}
	deadline = spr_now_ms() + BT_MEM_RELEASE_MS;
	do {
		spr_sleep_ms(100);
		released = bt_memfree_kb();
	} while (released && released < before && spr_now_ms() < deadline);
	bt_metric("binder_proc_mem_released_kb", released);

	if (!before || !after)
		bt_err(BT_C_PROC_MEM, "cannot read MemFree from /proc/meminfo");
	else if (after > before)
		bt_err(BT_C_PROC_MEM, "MemFree rose from %ld kB to %ld kB as %u binder_procs were set up: the measurement drowns in noise",
		       before, after, n);
	bt_done(BT_C_PROC_MEM);
	bt_check_end(BT_C_PROC_MEM);
}

/*
 * Every transaction is over: the server must hold no buffer. Its pages,
 * as metrics named with @suffix.
 */
static void bt_check_released(pid_t server, const char *suffix)
{
	struct bt_pages p = { -1, -1, -1, -1, -1 };
	__s64 deadline = spr_now_ms() + 5000;
	char name[80];
	int ret;

	while ((ret = bt_binder_pages(server, &p)) == 0 &&
	       (p.buffers || p.active) && spr_now_ms() < deadline)
		spr_sleep_ms(10);
	if (ret)
		bt_err(BT_C_BUFFERS_RELEASED, "%s/stats, proc %d: %s",
		       bt_o.binder_debugfs, server, spr_errname(-ret));
	else if (p.buffers || p.active)
		bt_err(BT_C_BUFFERS_RELEASED, "the server of %s still holds %ld buffers (pages active:lru:free %ld:%ld:%ld) 5 s after the last transaction",
		       bt_o.dev, p.buffers, p.active, p.lru, p.free);
	bt_done(BT_C_BUFFERS_RELEASED);
	if (ret)
		p = (struct bt_pages){ -1, -1, -1, -1, -1 };
	bt_print_pages(&p, suffix);
	snprintf(name, sizeof(name), "binder_resident_bytes%s", suffix);
	bt_metric(name, ret ? -1 : (p.active + p.lru) * (long)BT_PAGE_SIZE);
}

/* The server must have lived to the end; then it is killed. */
static void bt_stop_server(pid_t server)
{
	__s64 deadline;
	char how[64];
	int ret, status;

	ret = waitpid(server, &status, WNOHANG);
	if (ret == server) {
		bt_err(BT_C_SERVER_EXIT, "the server of %s died before the end: %s",
		       bt_o.dev, bt_status_str(status, how, sizeof(how)));
	} else if (ret) {
		bt_err(BT_C_SERVER_EXIT, "waitpid for the server: %s",
		       spr_errname(errno));
	} else {
		kill(server, SIGKILL);
		deadline = spr_now_ms() + 5000;
		while (!(ret = waitpid(server, &status, WNOHANG)) &&
		       spr_now_ms() < deadline)
			spr_sleep_ms(5);
		if (ret != server)
			bt_err(BT_C_SERVER_EXIT, "the server was not reaped 5 s after SIGKILL");
		else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			bt_err(BT_C_SERVER_EXIT, "the server ended with %s, expected SIGKILL",
			       bt_status_str(status, how, sizeof(how)));
	}
	bt_done(BT_C_SERVER_EXIT);
}

/* -A: the end of its server, before bt_end_phase() for -d's. */
static void bt_end_alt_server(pid_t server)
{
	bt_swap_driver();
	bt_check_released(server, "_alt");
	bt_stop_server(server);
	bt_swap_driver();
}

static void bt_end_phase(pid_t server, const struct bt_mstats *m_start,
			 bool have_m_start)
{
	struct bt_mstats m;
	char how[64];
	int ret, status;
	pid_t pid;

	bt_check_released(server, "");

	ret = bt_module_stats(&m);
	if (!ret) {
		bt_metric("binder_module_reclaimed", have_m_start ?
			  m.reclaimed - m_start->reclaimed : m.reclaimed);
		bt_metric("binder_module_available", m.available);
		bt_metric("binder_module_alloc_failed", m.alloc_failed);
	} else {
		bt_metric("binder_module_reclaimed", -1);
	}
	if (bt_o.module) {
		if (ret || !have_m_start)
			bt_err(BT_C_MODULE_STATS, "%s: %s", bt_o.stats_path,
			       ret ? spr_errname(-ret) : "not there at the start");
		bt_done(BT_C_MODULE_STATS);
	}

	bt_metric("binder_server_sync", bt_load(&bt_sh->srv_sync));
	bt_metric("binder_server_oneway", bt_load(&bt_sh->srv_oneway));
	bt_metric("binder_server_bytes", bt_load(&bt_sh->srv_bytes));
	bt_metric("binder_server_replies_complete",
		  bt_load(&bt_sh->srv_complete));
	bt_metric("binder_server_replies_dead", bt_load(&bt_sh->srv_dead));
	bt_metric("binder_server_replies_failed", bt_load(&bt_sh->srv_failed));

	bt_stop_server(server);
	bt_done(BT_C_SERVER_VERIFY);

	/* No process of ours may be left, zombie or not. */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		bt_err(BT_C_CHILDREN_REAPED, "process %d was left over (%s)",
		       pid, bt_status_str(status, how, sizeof(how)));
	if (!pid)
		bt_err(BT_C_CHILDREN_REAPED, "a child process still runs");
	else if (errno != ECHILD)
		bt_err(BT_C_CHILDREN_REAPED, "waitpid: %s", spr_errname(errno));
	bt_done(BT_C_CHILDREN_REAPED);

	if (bt_o.module)
		bt_check_end(BT_C_MODULE_STATS);
	bt_check_end(BT_C_SERVER_VERIFY);
	bt_check_end(BT_C_BUFFERS_RELEASED);
	bt_check_end(BT_C_SERVER_EXIT);
	bt_check_end(BT_C_CHILDREN_REAPED);
}

/*
 * Traffic sizes: in the worst case every sender holds the largest at once,
 * so the sum must fit the budgets (a random and a delayed victim besides
 * the traffic threads). The rest of the 4 MiB is a margin: best fit can
 * fragment, and a full buffer (ENOSPC) is retried and counted.
 */
static void bt_set_caps(void)
{
	size_t senders = bt_o.clients * bt_o.threads + 2;
	unsigned int i;

	for (i = 0; i < BT_ARRAY_SIZE(bt_sizes); i++) {
		if (bt_sizes[i] <= BT_SYNC_BUDGET / senders) {
			bt_nr_traffic_sizes = i + 1;
			bt_sync_cap = bt_sizes[i];
		}
		if (bt_sizes[i] <= BT_ONEWAY_BUDGET / senders)
			bt_oneway_cap = bt_sizes[i];
	}
}

static void bt_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-d device (/dev/binder)] [-B binder's debugfs directory (%s)]\n"
		"          [-c clients (2)] [-T threads per client (2)] [-t seconds of traffic (10)]\n"
		"          [-b [-A device -E its debugfs directory]] [-M count] [-r] [-k] [-m]\n"
		"          [-D module stats file]\n"
		"  -b  benchmark: ping-pong of 64 B, 4 KiB, 256 KiB, a third of -t each\n"
		"  -A  with -b: alternate with this device in rounds of two %u ms slices\n"
		"  -M  memory per binder_proc: MemFree across count (1-%u) opens of the\n"
		"      device, each mapped and asked BINDER_VERSION; nothing else runs\n"
		"  -r  reclaim during the traffic: drop_caches, and a memory hog\n"
		"  -k  kill clients during the traffic\n"
		"  -m  the driver is on shrinkable_page_range: check its stats file\n"
		"  -D  that file (%s)\n", prog, BT_BINDER_DEBUGFS,
		BT_ALT_SLICE_US / 1000, BT_MEM_MAX_PROCS, BT_MODULE_STATS);
	exit(2);
}

static void bt_parse(int argc, char **argv)
{
	int opt;

	bt_o.dev = "/dev/binder";
	bt_o.binder_debugfs = BT_BINDER_DEBUGFS;
	bt_o.stats_path = BT_MODULE_STATS;
	bt_o.clients = 2;
	bt_o.threads = 2;
	bt_o.seconds = 10;
	while ((opt = getopt(argc, argv, "d:B:A:E:c:T:t:bM:rkmD:h")) != -1) {
		switch (opt) {
		case 'd':
			bt_o.dev = optarg;
			break;
		case 'B':
			bt_o.binder_debugfs = optarg;
			break;
		case 'A':
			bt_o.alt_dev = optarg;
			break;
		case 'E':
			bt_o.alt_debugfs = optarg;
			break;
		case 'c':
			if (!bt_parse_uint(optarg, 1, BT_MAX_CLIENTS,
					   &bt_o.clients))
				bt_usage(argv[0]);
			break;
		case 'T':
			if (!bt_parse_uint(optarg, 1, BT_MAX_THREADS,
					   &bt_o.threads))
				bt_usage(argv[0]);
			break;
		case 't':
			if (!bt_parse_uint(optarg, 1, 3600, &bt_o.seconds))
				bt_usage(argv[0]);
			break;
		case 'b':
			bt_o.bench = 1;
			break;
		case 'M':
			if (!bt_parse_uint(optarg, 1, BT_MEM_MAX_PROCS,
					   &bt_o.mem_procs))
				bt_usage(argv[0]);
			break;
		case 'r':
			bt_o.reclaim = 1;
			break;
		case 'k':
			bt_o.kill = 1;
			break;
		case 'm':
			bt_o.module = 1;
			break;
		case 'D':
			bt_o.stats_path = optarg;
			break;
		default:
			bt_usage(argv[0]);
		}
	}
	if (optind != argc || !bt_o.alt_dev != !bt_o.alt_debugfs ||
	    (bt_o.alt_dev && !bt_o.bench))
		bt_usage(argv[0]);
}

int main(int argc, char **argv)
{
	struct bt_mstats m_start;
	bool have_m_start;
	unsigned int nr_threads;
	pid_t server, alt_server = -1;

	bt_parse(argc, argv);
	bt_parent = getpid();
	bt_sh = mmap(NULL, sizeof(*bt_sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (bt_sh == MAP_FAILED) {
		bt_print("SPR-CHECK FAIL binder_open cannot map %zu bytes of shared memory: %s",
			 sizeof(*bt_sh), spr_errname(errno));
		return 1;
	}
	/* Inherited by every child but the hog: the OOM killer's choice. */
	spr_write_file("/proc/self/oom_score_adj", "-1000");
	bt_set_caps();
	if (!bt_open_check())
		return 1;
	if (bt_o.mem_procs) {
		bt_mem_phase();
		return bt_nr_failed ? 1 : 0;
	}
	have_m_start = !bt_module_stats(&m_start);
	/*
	 * A server thread for each traffic thread, the victims, the sizes
	 * client: none ever waits for a free one, so a stats transaction that
	 * waits for oneways cannot starve them.
	 */
	nr_threads = bt_o.bench ? 4 : bt_o.clients * bt_o.threads + 6;
	server = bt_start_server(nr_threads);
	if (bt_o.alt_dev && bt_server_ready())
		alt_server = bt_start_alt_server(nr_threads);
	bt_check_end(BT_C_SERVER_SETUP);
	if (bt_failed(BT_C_SERVER_SETUP) || !bt_server_ready()) {
		bt_kill_wait(server);
		bt_kill_wait(alt_server);
		return 1;
	}
	if (bt_o.bench) {
		bt_bench_phase();
	} else {
		bt_sizes_phase(server);
		bt_traffic_phase(server);
		bt_after_phase();
	}
	if (bt_o.alt_dev)
		bt_end_alt_server(alt_server);
	bt_end_phase(server, &m_start, have_m_start);
	return bt_nr_failed ? 1 : 0;
}
