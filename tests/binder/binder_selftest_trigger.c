// SPDX-License-Identifier: GPL-2.0
/*
 * binder_selftest_trigger: run binder's allocator selftest and check that it
 * passed.
 *
 * With CONFIG_ANDROID_BINDER_IPC_SELFTEST, the first binder ioctl of a
 * process that mapped a binder device runs binder_selftest_alloc() on that
 * mapping, once per boot. This program opens a binder device (by default
 * /dev/binderfs/binder, mounting binderfs on /dev/binderfs if need be), maps
 * it read-only, issues BINDER_VERSION, and then reads the kernel log: the
 * selftest must have printed STARTED and then PASSED, with none of its
 * failure lines, and the log must hold no kernel report.
 *
 *	binder_selftest_trigger [-s BYTES] [DEVICE]
 *
 * -s sets the size of the mapping, 4 MiB by default, binder's largest. The
 * selftest makes the same checks of the same buffer layouts at any size of
 * 44 KiB or more; only its largest buffer grows with the mapping. Each of
 * its 375000 layouts that span the whole mapping allocates, maps and
 * reclaims every page of it, so under QEMU without KVM 4 MiB takes many
 * hours and 64 KiB well under one.
 *
 * Prints "SPR-CHECK PASS|FAIL <name> [details]" for each check and exits 1
 * if any failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "../user/spr_util.h"

#define BINDERFS_DIR	"/dev/binderfs"
#define DEFAULT_DEVICE	BINDERFS_DIR "/binder"
#define DEFAULT_MAP_BYTES	(4UL << 20)
#define LINE_MAX_LEN	512

/* klogctl() actions, from include/linux/syslog.h */
#define SYSLOG_ACTION_READ_ALL		3
#define SYSLOG_ACTION_SIZE_BUFFER	10

/* The selftest's pr_fmt is KBUILD_MODNAME ": ", which depends on the build. */
static const char * const selftest_prefixes[] = {
	"binder_alloc_selftest: ",	/* upstream's Makefile */
	"binder_linux: ",		/* Debian's binder_linux.ko */
};

/* What the kernel prints when something went wrong, whoever caused it. */
static const char * const kernel_reports[] = {
	"WARNING:", "BUG:", "Oops", "Call Trace", "kernel BUG",
	"possible recursive locking", "possible circular locking",
	"inconsistent lock state", "lockdep", "UBSAN", "KASAN",
	"general protection fault", "list_add corruption",
	"list_del corruption", "Bad page",
};

static unsigned int nr_failed;

/* The details of the check being printed, formatted by check(). */
static char check_detail[LINE_MAX_LEN];

/* Print one SPR-CHECK line, in one write(2); details only on failure. */
static bool check_result(bool ok, const char *name)
{
	/* Room for the prefix and the name around the details. */
	char line[LINE_MAX_LEN + 128];
	int len;

	len = snprintf(line, sizeof(line), "SPR-CHECK %s %s%s%s",
		       ok ? "PASS" : "FAIL", name, ok ? "" : " ",
		       ok ? "" : check_detail);
	nr_failed += !ok;
	len = strnlen(line, sizeof(line) - 1);
	line[len++] = '\n';
	spr_write_all(STDOUT_FILENO, line, len);
	return ok;
}

/*
 * A macro rather than a variadic function, so that the compiler checks
 * each format against snprintf()'s arguments.
 */
#define check(ok, name, ...) \
	(snprintf(check_detail, sizeof(check_detail), __VA_ARGS__), \
	 check_result(ok, name))

static void metric(const char *name, long long value)
{
	char line[LINE_MAX_LEN];
	int len;

	len = snprintf(line, sizeof(line), "SPR-METRIC %s %lld\n", name,
		       value);
	spr_write_all(STDOUT_FILENO, line, len);
}

/* Mount binderfs on BINDERFS_DIR unless the default device exists. */
static bool mount_binderfs(void)
{
	if (!access(DEFAULT_DEVICE, F_OK))
		return check(true, "binderfs_mount", "%s", "");
	if (mkdir(BINDERFS_DIR, 0755) && errno != EEXIST)
		return check(false, "binderfs_mount", "mkdir %s: %s",
			     BINDERFS_DIR, strerror(errno));
	if (mount("binder", BINDERFS_DIR, "binder", 0, NULL))
		return check(false, "binderfs_mount", "mount: %s",
			     strerror(errno));
	return check(!access(DEFAULT_DEVICE, F_OK), "binderfs_mount",
		     "no %s after mounting binderfs", DEFAULT_DEVICE);
}

/* The whole kernel log buffer, NUL-terminated, or NULL. */
static char *read_kernel_log(void)
{
	int size = klogctl(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0);
	char *log;
	int len;

	if (size <= 0)
		return NULL;
	log = malloc(size + 1);
	if (!log)
		return NULL;
	len = klogctl(SYSLOG_ACTION_READ_ALL, log, size);
	if (len < 0) {
		free(log);
		return NULL;
	}
	log[len] = '\0';
	return log;
}

/* The message of selftest line @line if it has one, else NULL. */
static const char *selftest_message(const char *line)
{
	size_t i;

	for (i = 0; i < sizeof(selftest_prefixes) / sizeof(*selftest_prefixes);
	     i++) {
		const char *p = strstr(line, selftest_prefixes[i]);

		if (p)
			return p + strlen(selftest_prefixes[i]);
	}
	return NULL;
}

static const char *kernel_report(const char *line)
{
	size_t i;

	for (i = 0; i < sizeof(kernel_reports) / sizeof(*kernel_reports); i++)
		if (strstr(line, kernel_reports[i]))
			return kernel_reports[i];
	return NULL;
}

/* Check the selftest's lines, and the whole log for kernel reports. */
static void check_kernel_log(void)
{
	bool started = false, passed = false, failed = false;
	char first_error[LINE_MAX_LEN] = "";
	char first_report[LINE_MAX_LEN] = "";
	unsigned int nr_errors = 0, nr_reports = 0;
	char *log = read_kernel_log();
	char *line, *save;

	if (!check(log, "kernel_log_read", "klogctl: %s", strerror(errno)))
		return;
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *msg = selftest_message(line);

		if (kernel_report(line) && !nr_reports++)
			snprintf(first_report, sizeof(first_report), "%s",
				 line);
		if (!msg)
			continue;
		if (!strcmp(msg, "STARTED")) {
			started = true;
		} else if (!strcmp(msg, "PASSED")) {
			passed = started;
		} else if (strstr(msg, "tests FAILED")) {
			failed = true;
		} else if (!passed &&
			   (!strncmp(msg, "expect ", 7) ||
			    !strncmp(msg, "lru list should be empty", 24) ||
			    !strncmp(msg, "alloc sizes:", 12) ||
			    !strncmp(msg, "free seq:", 9))) {
			/* binder_alloc_selftest.c's pr_err() lines */
			if (!nr_errors++)
				snprintf(first_error, sizeof(first_error),
					 "%s", msg);
		}
	}
	check(started, "binder_alloc_selftest_started",
	      "no \"STARTED\" line from the selftest in the kernel log");
	check(passed && !failed && !nr_errors, "binder_alloc_selftest_passed",
	      "passed=%d failed=%d errors=%u first: %s", passed, failed,
	      nr_errors, first_error);
	check(!nr_reports, "kernel_log_clean", "%u report line(s), first: %s",
	      nr_reports, first_report);
	free(log);
}

static void bad_arguments(const char *prog)
{
	fprintf(stderr, "usage: %s [-s BYTES] [DEVICE]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct binder_version version = { 0 };
	size_t map_bytes = DEFAULT_MAP_BYTES;
	const char *device = DEFAULT_DEVICE;
	long long start;
	char *end;
	void *map;
	int fd, opt;

	while ((opt = getopt(argc, argv, "s:")) != -1) {
		switch (opt) {
		case 's':
			errno = 0;
			map_bytes = strtoul(optarg, &end, 0);
			if (errno || *end || !map_bytes)
				bad_arguments(argv[0]);
			break;
		default:
			bad_arguments(argv[0]);
		}
	}
	if (optind + 1 < argc)
		bad_arguments(argv[0]);
	if (optind < argc)
		device = argv[optind];
	else if (!mount_binderfs())
		return 1;

	fd = open(device, O_RDWR | O_CLOEXEC);
	if (!check(fd >= 0, "binder_open", "%s: %s", device, strerror(errno)))
		return 1;

	map = mmap(NULL, map_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
	if (!check(map != MAP_FAILED, "binder_mmap", "%zu bytes: %s",
		   map_bytes, strerror(errno)))
		return 1;
	metric("binder_map_bytes", map_bytes);

	/* The selftest runs inside this ioctl, before the command itself. */
	start = spr_now_ms();
	if (check(!ioctl(fd, BINDER_VERSION, &version), "binder_version_ioctl",
		  "%s", strerror(errno)))
		check(version.protocol_version ==
		      BINDER_CURRENT_PROTOCOL_VERSION, "binder_version",
		      "protocol %d, expected %d", version.protocol_version,
		      BINDER_CURRENT_PROTOCOL_VERSION);
	metric("binder_selftest_ioctl_ms", spr_now_ms() - start);

	check_kernel_log();

	munmap(map, map_bytes);
	close(fd);
	return nr_failed ? 1 : 0;
}
