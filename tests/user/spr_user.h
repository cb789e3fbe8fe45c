/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the user-space programs that drive /dev/spr_test: the
 * SPR-CHECK / SPR-METRIC output protocol, ioctl wrappers that return 0 or
 * -errno, a copy out of a mapping that survives SIGBUS and SIGSEGV, a
 * deterministic PRNG, bounded waits, and fd passing over unix sockets.
 *
 * Each program is one translation unit, so everything here is static inline.
 * Output goes through write(2), one call per line: lines of forked processes
 * never interleave, and no stdio buffer is duplicated by fork().
 */
#ifndef SPR_USER_H
#define SPR_USER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spr_test_uapi.h"
#include "spr_util.h"

/* x86_64 only: the driver counts pages of this size. */
#define SPR_PAGE_SIZE	4096UL
#define SPR_MAX_PAGES	(SPR_TEST_MAX_BYTES / SPR_PAGE_SIZE)
/* The largest READ the driver accepts. */
#define SPR_READ_MAX	(64UL << 10)
#define SPR_DETAIL_MAX	400
#define SPR_LINE_MAX	(SPR_DETAIL_MAX + 240)
/* A set of errnos; every errno the driver may return is below 32. */
#define SPR_ERR(e)	(1u << (e))
#define SPR_DEBUGFS_DIR	"/sys/kernel/debug/shrinkable_page_range/spr-test"
/* Addresses that no user copy may reach. */
#define SPR_KERNEL_ADDR		0xffff888000000000ULL
#define SPR_NONCANONICAL_ADDR	0x8000000000000000ULL

/* Number of checks that failed in this process. */
static unsigned int spr_nr_failed;

/*
 * Formatted output goes through macros that format into spr_fmt with
 * snprintf() first, rather than through functions that take a format: the
 * compiler checks every format against snprintf()'s arguments.
 */
static char spr_fmt[SPR_LINE_MAX];

/* spr_fmt as one line on stdout, in one write(2). */
static inline void spr_print_fmt(void)
{
	char line[SPR_LINE_MAX + 1];
	size_t len = strnlen(spr_fmt, sizeof(spr_fmt));

	memcpy(line, spr_fmt, len);
	line[len++] = '\n';
	spr_write_all(STDOUT_FILENO, line, len);
}

#define spr_print(...) \
	(snprintf(spr_fmt, sizeof(spr_fmt), __VA_ARGS__), spr_print_fmt())

static inline void spr_metric(const char *key, __u64 value)
{
	spr_print("SPR-METRIC %s %llu", key, value);
}

/*
 * A check gathers any number of conditions and prints one line when it
 * ends: PASS, or FAIL with the first failure and how many more followed.
 * It may live in shared memory, so that a forked helper can fail it.
 */
struct spr_check {
	char name[64];
	char detail[SPR_DETAIL_MAX];
	unsigned int nr_failed;
};

/* Start check @c, named by spr_fmt. */
static inline void spr_check_start(struct spr_check *c)
{
	spr_strscpy(c->name, spr_fmt, sizeof(c->name));
	c->detail[0] = '\0';
	c->nr_failed = 0;
}

#define spr_check_init(c, ...) \
	(snprintf(spr_fmt, sizeof(spr_fmt), __VA_ARGS__), spr_check_start(c))

/* Record a failure, told by spr_fmt; false, for callers to return. */
static inline bool spr_check_failed(struct spr_check *c)
{
	if (!c->nr_failed++)
		spr_strscpy(c->detail, spr_fmt, sizeof(c->detail));
	return false;
}

#define spr_check_fail(c, ...) \
	(snprintf(spr_fmt, sizeof(spr_fmt), __VA_ARGS__), spr_check_failed(c))

static inline bool spr_check_ok(const struct spr_check *c)
{
	return !c->nr_failed;
}

static inline bool spr_check_end(struct spr_check *c)
{
	if (!c->nr_failed) {
		spr_print("SPR-CHECK PASS %s", c->name);
		return true;
	}
	spr_nr_failed++;
	if (c->nr_failed == 1)
		spr_print("SPR-CHECK FAIL %s %s", c->name, c->detail);
	else
		spr_print("SPR-CHECK FAIL %s %s (+%u more)",
			  c->name, c->detail, c->nr_failed - 1);
	return false;
}

/* A check of a single condition, told by spr_fmt if it failed. */
static inline bool spr_check_result(bool ok, const char *name)
{
	struct spr_check c;

	spr_strscpy(c.detail, spr_fmt, sizeof(c.detail));
	spr_strscpy(c.name, name, sizeof(c.name));
	c.nr_failed = !ok;
	return spr_check_end(&c);
}

#define spr_check_one(ok, name, ...) \
	(snprintf(spr_fmt, sizeof(spr_fmt), __VA_ARGS__), \
	 spr_check_result(ok, name))

/* Whether @err is one of the errnos of @errs. */
static inline bool spr_errno_in(int err, unsigned int errs)
{
	return err > 0 && err < 32 && (errs & SPR_ERR(err));
}

/* "EINVAL|EFAULT", for failure details. */
static inline char *spr_errset(unsigned int errs, char *buf, size_t len)
{
	size_t used = 0;
	int err;

	buf[0] = '\0';
	for (err = 1; err < 32 && used < len; err++)
		if (spr_errno_in(err, errs))
			used += snprintf(buf + used, len - used, "%s%s",
					 used ? "|" : "", spr_errname(err));
	return buf;
}

/* The ioctls, returning 0 or -errno (or an unexpected positive value). */
static inline int spr_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret == -1 ? -errno : ret;
}

static inline int spr_use(int fd, __u64 start, __u64 end)
{
	struct spr_test_span span = { start, end };

	return spr_ioctl(fd, SPR_TEST_IOC_USE, &span);
}

static inline int spr_stop(int fd, __u64 start, __u64 end)
{
	struct spr_test_span span = { start, end };

	return spr_ioctl(fd, SPR_TEST_IOC_STOP, &span);
}

static inline int spr_io(int fd, unsigned long cmd, __u64 offset,
			 __u64 size, const void *buf)
{
	struct spr_test_io io = { offset, size, (uintptr_t)buf };

	return spr_ioctl(fd, cmd, &io);
}

static inline int spr_write(int fd, __u64 offset, __u64 size,
			    const void *buf)
{
	return spr_io(fd, SPR_TEST_IOC_WRITE, offset, size, buf);
}

static inline int spr_read(int fd, __u64 offset, __u64 size, void *buf)
{
	return spr_io(fd, SPR_TEST_IOC_READ, offset, size, buf);
}

static inline int spr_zero(int fd, __u64 offset, __u64 size)
{
	return spr_io(fd, SPR_TEST_IOC_ZERO, offset, size, NULL);
}

static inline int spr_states(int fd, __u64 start, __u64 count,
			     __u8 *buf)
{
	struct spr_test_states st = { start, count, (uintptr_t)buf };

	return spr_ioctl(fd, SPR_TEST_IOC_STATES, &st);
}

static inline int spr_counters(int fd, struct spr_test_counters *c)
{
	return spr_ioctl(fd, SPR_TEST_IOC_COUNTERS, c);
}

/* Ask the shrinker to scan @nr pages; @nr becomes the number freed. */
static inline int spr_scan(int fd, __u64 *nr)
{
	return spr_ioctl(fd, SPR_TEST_IOC_SCAN, nr);
}

/* READ is limited to SPR_READ_MAX bytes per call. */
static inline int spr_read_all(int fd, __u64 offset, size_t size,
			       __u8 *buf)
{
	while (size) {
		size_t n = spr_min(size, SPR_READ_MAX);
		int ret = spr_read(fd, offset, n, buf);

		if (ret)
			return ret;
		offset += n;
		buf += n;
		size -= n;
	}
	return 0;
}

/* Map @nr_pages of the device read-only, as every client does. */
static inline void *spr_map(int fd, size_t nr_pages)
{
	void *p = mmap(NULL, nr_pages * SPR_PAGE_SIZE, PROT_READ, MAP_SHARED,
		       fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Reading the mapping: a Free page must raise SIGBUS, an address that is not
 * mapped SIGSEGV. spr_copy_safe() turns either into a return value instead
 * of a dead process. A fault anywhere else is a bug of ours and kills us as
 * usual: the handler restores the default action and returns, and the
 * faulting instruction runs again. The state is per thread, so that the
 * threads of one process can probe at once: a fault is delivered to the
 * thread that faulted.
 */
static __thread sigjmp_buf spr_probe_env;
static __thread int spr_probe_armed;

static inline void spr_probe_handler(int sig)
{
	if (!__atomic_load_n(&spr_probe_armed, __ATOMIC_RELAXED)) {
		signal(sig, SIG_DFL);
		return;
	}
	__atomic_store_n(&spr_probe_armed, 0, __ATOMIC_RELAXED);
	siglongjmp(spr_probe_env, sig);
}

static inline int spr_probe_init(void)
{
	struct sigaction sa = { .sa_handler = spr_probe_handler };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) || sigaction(SIGSEGV, &sa, NULL))
		return -errno;
	return 0;
}

/* Keep the compiler from moving memory accesses across this point. */
static inline void spr_barrier(void)
{
	__asm__ __volatile__("" : : : "memory");
}

/* Copy @len bytes from @src; 0, or the signal (SIGBUS, SIGSEGV) it raised. */
static inline int spr_copy_safe(void *dst, const void *src, size_t len)
{
	int sig = sigsetjmp(spr_probe_env, 1);

	if (sig)
		return sig;
	__atomic_store_n(&spr_probe_armed, 1, __ATOMIC_RELAXED);
	spr_barrier();
	memcpy(dst, src, len);
	spr_barrier();
	__atomic_store_n(&spr_probe_armed, 0, __ATOMIC_RELAXED);
	return 0;
}

static inline bool spr_is_zero(const __u8 *buf, size_t len)
{
	return !len || (!buf[0] && !memcmp(buf, buf + 1, len - 1));
}

/* Uniform enough in [0, n) for n far below 2^64; 0 when n is 0. */
static inline __u64 spr_rand_below(__u64 *state, __u64 n)
{
	return n ? spr_rand(state) % n : 0;
}

static inline void spr_rand_fill(__u64 *state, __u8 *buf, size_t len)
{
	__u64 r = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			r = spr_rand(state);
		buf[i] = r >> (8 * (i & 7));
	}
}

/* Memory that a forked process shares with us, zeroed; NULL on failure. */
static inline void *spr_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * fork() for a helper process: it dies with us, so that nothing outlives a
 * program that was killed by its caller's timeout.
 */
static inline pid_t spr_fork(void)
{
	pid_t pid = fork();

	if (!pid)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return pid;
}

/* Reap @pid before @deadline (ms); 0, or -ETIMEDOUT, or -errno. */
static inline int spr_wait_pid(pid_t pid, __s64 deadline, int *status)
{
	for (;;) {
		pid_t ret = waitpid(pid, status, WNOHANG);

		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (spr_now_ms() >= deadline)
			return -ETIMEDOUT;
		spr_sleep_ms(5);
	}
}

/* Kill @pid and reap it within 2 s (it may be stuck in the kernel). */
static inline int spr_kill_reap(pid_t pid, int *status)
{
	kill(pid, SIGKILL);
	return spr_wait_pid(pid, spr_now_ms() + 2000, status);
}

/* "exit status 1", "killed by SIGKILL": how a process ended. */
static inline char *spr_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s",
			 spr_signame(WTERMSIG(status)));
	else
		snprintf(buf, len, "wait status 0x%x", status);
	return buf;
}

/* Wait until @fd is readable or @deadline (ms); 0, -ETIMEDOUT or -errno. */
static inline int spr_poll_in(int fd, __s64 deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		__s64 left = deadline - spr_now_ms();
		int ret;

		if (left <= 0)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
	}
}

/* Read exactly @len bytes before @deadline: 0, -EPIPE at EOF, -ETIMEDOUT. */
static inline int spr_read_full(int fd, void *buf, size_t len,
				__s64 deadline)
{
	__u8 *p = buf;

	while (len) {
		int ret = spr_poll_in(fd, deadline);
		ssize_t n;

		if (ret)
			return ret;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

/* Pass @fd over the unix socket @sock (SCM_RIGHTS). */
static inline int spr_send_fd(int sock, int fd)
{
	char data = 'F';
	struct iovec iov = { &data, 1 };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Receive an fd sent by spr_send_fd() before @deadline; fd or -errno. */
static inline int spr_recv_fd(int sock, __s64 deadline)
{
	char data;
	struct iovec iov = { &data, 1 };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg;
	int ret = spr_poll_in(sock, deadline);
	int fd;

	if (ret)
		return ret;
	if (recvmsg(sock, &msg, 0) != 1)
		return -EPIPE;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET ||
	    cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* Print a debugfs file, if it exists, as "SPR-DEBUGFS <name>:" + lines. */
static inline void spr_dump_debugfs(const char *name)
{
	char path[256], line[SPR_DETAIL_MAX];
	unsigned int nr_lines = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", SPR_DEBUGFS_DIR, name);
	f = fopen(path, "r");
	if (!f)
		return;
	spr_print("SPR-DEBUGFS %s:", path);
	/* Bounded, in case the file is endless. */
	while (nr_lines++ < 10000 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		spr_print("SPR-DEBUGFS     %s", line);
	}
	fclose(f);
}

#endif /* SPR_USER_H */
