/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by every test program of the guest, those that
 * drive /dev/spr_test (tests/user) and those that drive binder
 * (tests/binder): time, errno and signal names, whole writes, /proc files,
 * option values, byte comparison and the splitmix64 PRNG. Each program is
 * one translation unit, so all are static inline.
 */
#ifndef SPR_UTIL_H
#define SPR_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

static inline size_t spr_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

static inline __s64 spr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void spr_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* "EINVAL" rather than "Invalid argument": the host greps for names. */
static inline const char *spr_errname(int err)
{
	const char *name = err ? strerrorname_np(err) : "success";

	return name ? name : "unknown-errno";
}

/* "SIGBUS"; good for up to four uses in one printf. */
static inline const char *spr_signame(int sig)
{
	static char names[4][24];
	static unsigned int next;
	const char *abbrev = sigabbrev_np(sig);
	char *name = names[next++ % 4];

	if (!sig)
		return "no signal";
	if (abbrev)
		snprintf(name, sizeof(names[0]), "SIG%s", abbrev);
	else
		snprintf(name, sizeof(names[0]), "signal %d", sig);
	return name;
}

static inline void spr_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

/* Copy the string @src into @dst of @size bytes, truncated if need be. */
static inline void spr_strscpy(char *dst, const char *src, size_t size)
{
	size_t len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Write @text to a /proc or /sys file; 0 or -errno. */
static inline int spr_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	err = n < 0 ? -errno : (size_t)n == strlen(text) ? 0 : -EIO;
	close(fd);
	return err;
}

/* A field of /proc/meminfo, in kB; 0 if it cannot be read. */
static inline __u64 spr_meminfo_kb(const char *field)
{
	size_t flen = strlen(field);
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			kb = strtoull(line + flen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* Parse an unsigned option value in [min, max]; false if it is not one. */
static inline bool spr_parse_u64(const char *s, __u64 min, __u64 max,
				 __u64 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* The index of the first byte where @a and @b differ, or @len. */
static inline size_t spr_first_diff(const __u8 *a, const __u8 *b,
				    size_t len)
{
	size_t i;

	if (!memcmp(a, b, len))
		return len;
	for (i = 0; a[i] == b[i]; i++)
		;
	return i;
}

/* splitmix64: small, fast and the same on every run with the same seed. */
static inline __u64 spr_rand(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif /* SPR_UTIL_H */
