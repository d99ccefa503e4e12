/*
 * smpcheck-host: the running Linux kernel's membarrier() and TLB shootdowns as an oracle
 * (docs/host.md).
 *
 *   smpcheck-host run [--timeout-ms MS] [--tlb-ipis] SCRIPT_FILE
 *       check an operation script as a whole, then execute it on the real kernel and
 *       print one JSON line per operation on standard output (with --tlb-ipis, each
 *       line also has the TLB shootdowns counted on each CPU during the operation)
 *   smpcheck-host info
 *       one JSON line: kernel release, online CPUs, membarrier(MEMBARRIER_CMD_QUERY)
 *   smpcheck-host bench CMD FLAGS CPU_ID|sibling SIBLINGS CALLS [--register-first] [--timeout-ms MS]
 *       latency of one membarrier() command with SIBLINGS threads of the same process
 *       spinning on other CPUs (registered once they spin, or before they start);
 *       one JSON line
 *   smpcheck-host tlbbench THREADS ITERATIONS REPEATS [--timeout-ms MS]
 *       the madvise(MADV_DONTNEED) microbenchmark of TLB shootdowns; one JSON line
 *   smpcheck-host pipebench threads|processes ITERATIONS REPEATS [--timeout-ms MS]
 *       pipe ping-pong between two threads (or processes) on one CPU, as
 *       `perf bench sched pipe` under `taskset 01`; one JSON line
 *   smpcheck-host linebench ITERATIONS REPEATS [--timeout-ms MS]
 *       cache-line ping-pong between two CPUs; one JSON line
 *   smpcheck-host resume FD LINE EXECS [--tlb-ipis]
 *       internal: the new image after a script's `exec` continues the script (read
 *       from the inherited descriptor FD) after line LINE
 *
 * Exit status: 0 the script ran to its end; 1 usage or I/O error; 2 the script is
 * invalid (nothing ran); 3 the watchdog killed the script; 4 an operation other than
 * membarrier() failed and the script stopped there; 128+N a script process was killed
 * by signal N; 70 internal error.
 *
 * Process layout of `run`: the first process is a supervisor. It makes itself the
 * leader of a new process group and a child subreaper, forks the script process, and
 * waits for it with a deadline. Every script process (the first one, the children of
 * `fork`, and the images of `exec`, which keep their process) is in that group and
 * dies with its parent (PR_SET_PDEATHSIG). On the deadline the supervisor kills the
 * script process and sweeps the group, reaps everything and exits with status 3.
 * The supervisor itself ignores the sweep signal, so that it survives to report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_membarrier
#error "this libc's headers do not define __NR_membarrier"
#endif

/* Bounds of docs/host.md. */
#define OPS_MAX 256
#define THREADS_MAX 8 /* threads 1..8 besides thread 0 */
#define FORKS_MAX 4
#define EXECS_MAX 4
#define PAGES_MAX 512
#define TIMEOUT_MS_MAX 20000
#define SCRIPT_BYTES_MAX (16 * 1024 * 1024)

/* Bounds of the benchmark. */
#define BENCH_SIBLINGS_MAX 256
#define BENCH_CALLS_MAX 1000000

/* membarrier() commands (include/uapi/linux/membarrier.h). */
#define MB_QUERY 0
#define MB_GLOBAL_EXPEDITED 2
#define MB_REGISTER_GLOBAL_EXPEDITED 4
#define MB_PRIVATE_EXPEDITED 8
#define MB_REGISTER_PRIVATE_EXPEDITED 16
#define MB_PRIVATE_EXPEDITED_SYNC_CORE 32
#define MB_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE 64
#define MB_PRIVATE_EXPEDITED_RSEQ 128
#define MB_REGISTER_PRIVATE_EXPEDITED_RSEQ 256

#define EXIT_USAGE 1
#define EXIT_SCRIPT 2
#define EXIT_TIMEOUT 3
#define EXIT_OPFAILED 4
#define EXIT_INTERNAL 70

static const char *progname = "smpcheck-host";

/* ------------------------------------------------------------------------------ */
/* Small utilities                                                                */

static long mb_call(int cmd, unsigned int flags, int cpu_id)
{
	return syscall(__NR_membarrier, cmd, flags, cpu_id);
}

static pid_t my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void futex_wait(_Atomic int *addr, int val)
{
	syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *addr)
{
	syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* Write all of buf to fd (one write() for a line of at most PIPE_BUF bytes). */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Output goes straight to the descriptors, unbuffered, so nothing is duplicated by
 * fork() or lost by execve(). */
static void outf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(int fd, const char *fmt, ...)
{
	char *buf;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	write_all(fd, buf, (size_t)n);
	free(buf);
}

/*
 * The TLB shootdown row of /proc/interrupts ("TLB:" on x86, "TLB shootdowns"):
 * its per-CPU counts into per (at most cap of them); the number of CPUs read, or -1
 * when the file cannot be read or has no such row. No allocation: a free() that
 * trims the heap could itself flush this process's TLBs inside a measured window.
 */
static int tlb_row(long long *per, int cap)
{
	static char buf[1 << 20]; /* a line per interrupt, a column per CPU: large machines need room */
	int fd = open("/proc/interrupts", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == sizeof buf - 1)
			break;
	}
	close(fd);
	buf[n] = '\0';
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *p = line;
		while (*p == ' ')
			p++;
		if (strncmp(p, "TLB:", 4) == 0) {
			p += 4;
			int k = 0;
			for (;;) {
				char *q;
				errno = 0;
				long long v = strtoll(p, &q, 10);
				if (q == p || errno)
					break;
				if (k < cap)
					per[k] = v;
				k++;
				p = q;
			}
			return k == 0 ? -1 : k < cap ? k : cap;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

/* The sum of the TLB row over the CPUs, or -1. */
static long long tlb_sum(void)
{
	static long long per[CPU_SETSIZE];
	int n = tlb_row(per, CPU_SETSIZE);
	if (n < 0)
		return -1;
	long long s = 0;
	for (int k = 0; k < n; k++)
		s += per[k];
	return s;
}

/*
 * With `run --tlb-ipis`, every line of a script's output has a "tlb" field: the
 * increase of the TLB row of /proc/interrupts on each CPU during the operation, or
 * null (fork and exec, or the row cannot be read). tlb_field holds its JSON text for
 * the next print_line().
 */
static int count_tlb;
static char tlb_field[CPU_SETSIZE * 24 + 16];
static long long tlb_before[CPU_SETSIZE], tlb_after[CPU_SETSIZE];
static int tlb_before_n;

/* Read the row before an operation (nothing else may happen between this and it). */
static void tlb_start(void)
{
	if (count_tlb)
		tlb_before_n = tlb_row(tlb_before, CPU_SETSIZE);
}

/* Read the row after the operation and format the per-CPU increases. */
static void tlb_stop(void)
{
	if (!count_tlb)
		return;
	int n = tlb_row(tlb_after, CPU_SETSIZE);
	if (n < 0 || n != tlb_before_n) {
		snprintf(tlb_field, sizeof tlb_field, "null");
		return;
	}
	size_t k = (size_t)snprintf(tlb_field, sizeof tlb_field, "[");
	for (int c = 0; c < n && k + 24 < sizeof tlb_field; c++)
		k += (size_t)snprintf(tlb_field + k, sizeof tlb_field - k, "%s%lld", c ? "," : "", tlb_after[c] - tlb_before[c]);
	snprintf(tlb_field + k, sizeof tlb_field - k, "]");
}

static void print_line(int line, const char *op, long ret, int err)
{
	if (count_tlb) {
		outf(1, "{\"line\":%d,\"op\":\"%s\",\"ret\":%ld,\"errno\":%d,\"tlb\":%s}\n", line, op, ret, ret == -1 ? err : 0,
		     tlb_field[0] ? tlb_field : "null");
		tlb_field[0] = '\0';
		return;
	}
	outf(1, "{\"line\":%d,\"op\":\"%s\",\"ret\":%ld,\"errno\":%d}\n", line, op, ret, ret == -1 ? err : 0);
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
}

static int pin_to(pid_t tid, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof set, &set) == 0 ? 0 : errno;
}

/* Parse a non-negative decimal argument no larger than max; -1 if it is not one. */
static long parse_arg(const char *s, long max)
{
	if (*s == '\0')
		return -1;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
	}
	return v;
}

/* Parse a decimal int argument (a leading '-' allowed); 0 on success. */
static int parse_int_arg(const char *s, long long lo, long long hi, long long *out)
{
	const char *p = s;
	int neg = 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	long v = parse_arg(p, 1L << 40);
	if (v < 0)
		return -1;
	long long x = neg ? -(long long)v : v;
	if (x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

/* ------------------------------------------------------------------------------ */
/* Scripts: reading and checking (the rules of src/host/script.ts)               */

enum op_kind {
	OP_MEMBARRIER, OP_SPAWN, OP_EXIT, OP_JOIN, OP_AFFINITY, OP_FORK, OP_EXEC,
	OP_MMAP, OP_TOUCH, OP_MADVISE, OP_MPROTECT, OP_MUNMAP /* the region (docs/host.md) */
};

static const char *const op_names[] = { "membarrier", "spawn", "exit", "join", "affinity", "fork", "exec",
					"mmap", "touch", "madvise", "mprotect", "munmap" };

/* Protections of mprotect (the rules of src/host/script.ts). */
enum prot { P_UNMAPPED = -1, P_NONE, P_R, P_RW };
static const char *const prot_names[] = { "none", "r", "rw" };

struct op {
	enum op_kind kind;
	int line;
	int thread;
	int cmd;
	unsigned int flags;
	int cpu_id;
	int spin;
	int cpu;
	long long pages, first, count; /* mmap; touch, madvise, mprotect, munmap */
	int prot;
};

struct script {
	struct op ops[OPS_MAX];
	int n;
};

struct tok {
	const char *p;
	size_t len;
};

struct script_error {
	int line;
	const char *code;
	char msg[65536];
};

static int serr(struct script_error *e, int line, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int serr(struct script_error *e, int line, const char *code, const char *fmt, ...)
{
	va_list ap;
	e->line = line;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Length of the white space at p (JavaScript's \s, which the model's reader splits
 * on: ASCII white space and the Unicode space separators in UTF-8), or 0.
 */
static size_t space_len(const unsigned char *p, const unsigned char *end)
{
	size_t left = (size_t)(end - p);
	if (left == 0)
		return 0;
	if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		return 1;
	if (left >= 2 && p[0] == 0xc2 && p[1] == 0xa0)
		return 2; /* U+00A0 */
	if (left >= 3) {
		unsigned a = p[0], b = p[1], c = p[2];
		if (a == 0xe1 && b == 0x9a && c == 0x80)
			return 3; /* U+1680 */
		if (a == 0xe2 && b == 0x80 && ((c >= 0x80 && c <= 0x8a) || c == 0xa8 || c == 0xa9 || c == 0xaf))
			return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
		if (a == 0xe2 && b == 0x81 && c == 0x9f)
			return 3; /* U+205F */
		if (a == 0xe3 && b == 0x80 && c == 0x80)
			return 3; /* U+3000 */
		if (a == 0xef && b == 0xbb && c == 0xbf)
			return 3; /* U+FEFF */
	}
	return 0;
}

/* Where a comment starting at p ends: at a line terminator other than \n (\r, U+2028,
 * U+2029: JavaScript's `.` stops there) or at the end of the line. */
static const char *comment_end(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '\r')
			return p;
		if (end - p >= 3 && (unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
		    ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9))
			return p;
	}
	return end;
}

static int tok_is(const struct tok *t, const char *s)
{
	return t->len == strlen(s) && memcmp(t->p, s, t->len) == 0;
}

/* A number token as the model's reader takes it: /^-?\d+$/, then its value compared
 * with [lo, hi]. Values too large for 64 bits saturate (they are out of range anyway). */
static int num(const struct tok *t, const char *what, long long lo, long long hi, int line,
	       struct script_error *e, long long *out)
{
	if (t == NULL)
		return serr(e, line, "HOST001", "missing %s", what);
	size_t i = 0;
	int neg = 0;
	if (t->len > 0 && t->p[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == t->len)
		return serr(e, line, "HOST001", "%s must be a decimal integer, not '%.*s'", what, (int)t->len, t->p);
	long long v = 0;
	for (size_t k = i; k < t->len; k++) {
		char c = t->p[k];
		if (c < '0' || c > '9')
			return serr(e, line, "HOST001", "%s must be a decimal integer, not '%.*s'", what, (int)t->len, t->p);
		if (v < (1LL << 40))
			v = v * 10 + (c - '0');
	}
	if (neg)
		v = -v;
	if (v < lo || v > hi)
		return serr(e, line, "HOST002", "%s %.*s is out of range %lld..%lld", what, (int)t->len, t->p, lo, hi);
	*out = v;
	return 0;
}

static int thread_no(const struct tok *t, int line, int min, struct script_error *e, int *out)
{
	long long n;
	if (num(t, "thread number", 0, INT_MAX, line, e, &n))
		return -1;
	if (n > THREADS_MAX)
		return serr(e, line, "HOST005", "thread %lld: a process has threads 0..%d", n, THREADS_MAX);
	if (n < min)
		return serr(e, line, "HOST003", "thread %lld cannot do this (thread 0 is the process's main thread)", n);
	*out = (int)n;
	return 0;
}

static int cpu_no(const struct tok *t, int line, int nr_cpus, struct script_error *e, int *out)
{
	long long c;
	if (num(t, "CPU", INT_MIN, INT_MAX, line, e, &c))
		return -1;
	if (c < 0 || c >= nr_cpus)
		return serr(e, line, "HOST004", "CPU %lld is not online: this machine has CPUs 0..%d", c, nr_cpus - 1);
	*out = (int)c;
	return 0;
}

static int arity(int ntoks, int n, const char *usage, int line, struct script_error *e)
{
	return ntoks == n ? 0 : serr(e, line, "HOST001", "usage: %s", usage);
}

#define TOKS_MAX 8

/* One line without its comment: 1 and *op filled, 0 for a blank line, -1 on error. */
static int parse_line(const char *p, const char *end, int line, int nr_cpus, struct op *op, struct script_error *e)
{
	struct tok toks[TOKS_MAX];
	int ntoks = 0; /* all tokens are counted; the first TOKS_MAX are kept */
	const unsigned char *q = (const unsigned char *)p, *qe = (const unsigned char *)end;
	while (q < qe) {
		size_t s = space_len(q, qe);
		if (s) {
			q += s;
			continue;
		}
		const unsigned char *start = q;
		while (q < qe && space_len(q, qe) == 0)
			q++;
		if (ntoks < TOKS_MAX)
			toks[ntoks] = (struct tok){ (const char *)start, (size_t)(q - start) };
		ntoks++;
	}
	if (ntoks == 0)
		return 0;
	struct tok *t = toks;
	memset(op, 0, sizeof *op);
	op->line = line;
	op->cpu = -1;
	/* tN prefix: /^t\d+$/ */
	if (t[0].len >= 2 && t[0].p[0] == 't') {
		int digits = 1;
		for (size_t k = 1; k < t[0].len; k++)
			if (t[0].p[k] < '0' || t[0].p[k] > '9')
				digits = 0;
		if (digits) {
			struct tok n = { t[0].p + 1, t[0].len - 1 };
			if (thread_no(&n, line, 0, e, &op->thread))
				return -1;
			t++;
			ntoks--;
			if (ntoks == 0 ||
			    !(tok_is(&t[0], "membarrier") || tok_is(&t[0], "mmap") || tok_is(&t[0], "touch") ||
			      tok_is(&t[0], "madvise") || tok_is(&t[0], "mprotect") || tok_is(&t[0], "munmap")))
				return serr(e, line, "HOST001",
					    "only membarrier, mmap, touch, madvise, mprotect and munmap take a thread prefix (tN)");
		}
	}
	struct tok *t1 = ntoks > 1 ? &t[1] : NULL, *t2 = ntoks > 2 ? &t[2] : NULL, *t3 = ntoks > 3 ? &t[3] : NULL;
	long long v;
	if (tok_is(&t[0], "membarrier")) {
		if (arity(ntoks, 4, "[tN] membarrier CMD FLAGS CPU", line, e))
			return -1;
		op->kind = OP_MEMBARRIER;
		if (num(t1, "CMD", INT_MIN, INT_MAX, line, e, &v))
			return -1;
		op->cmd = (int)v;
		if (num(t2, "FLAGS", INT_MIN, UINT_MAX, line, e, &v))
			return -1;
		op->flags = (unsigned int)(v & 0xffffffffLL);
		if (num(t3, "CPU", INT_MIN, INT_MAX, line, e, &v))
			return -1;
		op->cpu_id = (int)v;
		return 1;
	}
	if (tok_is(&t[0], "spawn")) {
		op->kind = OP_SPAWN;
		if (t2 && tok_is(t2, "block")) {
			if (arity(ntoks, 3, "spawn N block | spawn N spin C", line, e) || thread_no(t1, line, 1, e, &op->thread))
				return -1;
			return 1;
		}
		if (t2 && tok_is(t2, "spin")) {
			if (arity(ntoks, 4, "spawn N block | spawn N spin C", line, e) || thread_no(t1, line, 1, e, &op->thread) ||
			    cpu_no(t3, line, nr_cpus, e, &op->cpu))
				return -1;
			op->spin = 1;
			return 1;
		}
		return serr(e, line, "HOST001", "usage: spawn N block | spawn N spin C");
	}
	if (tok_is(&t[0], "exit") || tok_is(&t[0], "join")) {
		op->kind = tok_is(&t[0], "exit") ? OP_EXIT : OP_JOIN;
		if (arity(ntoks, 2, op->kind == OP_EXIT ? "exit N" : "join N", line, e) || thread_no(t1, line, 1, e, &op->thread))
			return -1;
		return 1;
	}
	if (tok_is(&t[0], "affinity")) {
		op->kind = OP_AFFINITY;
		if (arity(ntoks, 3, "affinity N C", line, e) || thread_no(t1, line, 0, e, &op->thread) ||
		    cpu_no(t2, line, nr_cpus, e, &op->cpu))
			return -1;
		return 1;
	}
	if (tok_is(&t[0], "fork") || tok_is(&t[0], "exec")) {
		op->kind = tok_is(&t[0], "fork") ? OP_FORK : OP_EXEC;
		if (arity(ntoks, 1, op_names[op->kind], line, e))
			return -1;
		return 1;
	}
	if (tok_is(&t[0], "mmap")) {
		op->kind = OP_MMAP;
		if (arity(ntoks, 2, "[tN] mmap PAGES", line, e) || num(t1, "PAGES", 1, INT_MAX, line, e, &op->pages))
			return -1;
		if (op->pages > PAGES_MAX)
			return serr(e, line, "HOST005", "mmap of %lld pages: a region has at most %d", op->pages, PAGES_MAX);
		return 1;
	}
	if (tok_is(&t[0], "touch") || tok_is(&t[0], "madvise") || tok_is(&t[0], "munmap")) {
		op->kind = tok_is(&t[0], "touch") ? OP_TOUCH : tok_is(&t[0], "madvise") ? OP_MADVISE : OP_MUNMAP;
		char usage[64];
		snprintf(usage, sizeof usage, "[tN] %s FIRST COUNT", op_names[op->kind]);
		if (arity(ntoks, 3, usage, line, e) || num(t1, "FIRST", 0, INT_MAX, line, e, &op->first) ||
		    num(t2, "COUNT", 1, INT_MAX, line, e, &op->count))
			return -1;
		return 1;
	}
	if (tok_is(&t[0], "mprotect")) {
		op->kind = OP_MPROTECT;
		if (arity(ntoks, 4, "[tN] mprotect FIRST COUNT none|r|rw", line, e) ||
		    num(t1, "FIRST", 0, INT_MAX, line, e, &op->first) || num(t2, "COUNT", 1, INT_MAX, line, e, &op->count))
			return -1;
		op->prot = -1;
		for (int k = 0; k < 3; k++)
			if (tok_is(t3, prot_names[k]))
				op->prot = k;
		if (op->prot < 0)
			return serr(e, line, "HOST001", "PROT must be none, r or rw, not '%.*s'", (int)t3->len, t3->p);
		return 1;
	}
	return serr(e, line, "HOST001",
		    "unknown operation '%.*s' (membarrier, spawn, exit, join, affinity, fork, exec, mmap, touch, madvise, "
		    "mprotect, munmap)",
		    (int)t[0].len, t[0].p);
}

enum tstate { T_NONE, T_ALIVE, T_EXITED };

/* Read and check a whole script; 0 or -1 with *e filled for the first problem. */
static int parse_script(const char *text, size_t len, int nr_cpus, struct script *s, struct script_error *e)
{
	enum tstate th[THREADS_MAX + 1] = { T_ALIVE };
	int forks = 0, execs = 0;
	/* The region of mmap: each page's protection or P_UNMAPPED; region_n 0 before any mmap. */
	signed char region[PAGES_MAX];
	long long region_n = 0;
	const char *p = text, *end = text + len;
	s->n = 0;
	for (int line = 1;; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		/* The comment runs from the first '#' to the end of the line (or to a \r). */
		const char *hash = memchr(p, '#', (size_t)(le - p));
		struct op op;
		int r;
		if (hash) {
			const char *ce = comment_end(hash, le);
			/* The text after a \r that ends a comment is still on the line. */
			char buf[4096];
			size_t a = (size_t)(hash - p), b = (size_t)(le - ce);
			if (a + b <= sizeof buf) {
				memcpy(buf, p, a);
				memcpy(buf + a, ce, b);
				r = parse_line(buf, buf + a + b, line, nr_cpus, &op, e);
				/* tokens of op point into buf only through error messages, which are
				 * already formatted */
			} else {
				r = parse_line(p, hash, line, nr_cpus, &op, e);
			}
		} else {
			r = parse_line(p, le, line, nr_cpus, &op, e);
		}
		if (r < 0)
			return -1;
		if (r > 0) {
			if (s->n == OPS_MAX)
				return serr(e, line, "HOST005", "more than %d operations", OPS_MAX);
			int n = op.thread;
			switch (op.kind) {
			case OP_MEMBARRIER:
			case OP_AFFINITY:
				if (th[n] != T_ALIVE)
					return serr(e, line, "HOST003", "thread %d %s", n,
						    th[n] == T_EXITED ? "has exited" : "does not exist");
				break;
			case OP_MMAP:
				if (th[n] != T_ALIVE)
					return serr(e, line, "HOST003", "thread %d %s", n,
						    th[n] == T_EXITED ? "has exited" : "does not exist");
				for (long long k = 0; k < region_n; k++)
					if (region[k] != P_UNMAPPED)
						return serr(e, line, "HOST007", "a region is already mapped: munmap all of it first");
				region_n = op.pages;
				for (long long k = 0; k < region_n; k++)
					region[k] = P_RW;
				break;
			case OP_TOUCH:
			case OP_MADVISE:
			case OP_MPROTECT:
			case OP_MUNMAP:
				if (th[n] != T_ALIVE)
					return serr(e, line, "HOST003", "thread %d %s", n,
						    th[n] == T_EXITED ? "has exited" : "does not exist");
				if (region_n == 0)
					return serr(e, line, "HOST007", "%s before any mmap: there is no region", op_names[op.kind]);
				if (op.first + op.count > region_n)
					return serr(e, line, "HOST007", "pages %lld..%lld are outside the region (pages 0..%lld)", op.first,
						    op.first + op.count - 1, region_n - 1);
				for (long long k = op.first; k < op.first + op.count; k++) {
					if (op.kind == OP_TOUCH && region[k] != P_RW)
						return serr(e, line, "HOST007", "page %lld is %s: touch would fault", k,
							    region[k] == P_UNMAPPED ? "not mapped" : "not writable");
					if ((op.kind == OP_MADVISE || op.kind == OP_MPROTECT) && region[k] == P_UNMAPPED)
						return serr(e, line, "HOST007", "page %lld is not mapped", k);
				}
				for (long long k = op.first; k < op.first + op.count; k++) {
					if (op.kind == OP_MPROTECT)
						region[k] = (signed char)op.prot;
					if (op.kind == OP_MUNMAP)
						region[k] = P_UNMAPPED;
				}
				break;
			case OP_SPAWN:
				if (th[n] != T_NONE)
					return serr(e, line, "HOST003", "thread %d already exists", n);
				th[n] = T_ALIVE;
				break;
			case OP_EXIT:
				if (th[n] != T_ALIVE)
					return serr(e, line, "HOST003", "thread %d %s", n,
						    th[n] == T_EXITED ? "has exited" : "does not exist");
				th[n] = T_EXITED;
				break;
			case OP_JOIN:
				if (th[n] == T_NONE)
					return serr(e, line, "HOST003", "thread %d does not exist", n);
				if (th[n] != T_EXITED)
					return serr(e, line, "HOST006",
						    "join of thread %d, which has not exited (it would wait forever)", n);
				th[n] = T_NONE;
				break;
			case OP_FORK:
			case OP_EXEC:
				if (op.kind == OP_FORK && ++forks > FORKS_MAX)
					return serr(e, line, "HOST005", "more than %d fork operations", FORKS_MAX);
				if (op.kind == OP_EXEC && ++execs > EXECS_MAX)
					return serr(e, line, "HOST005", "more than %d exec operations", EXECS_MAX);
				for (int k = 1; k <= THREADS_MAX; k++)
					th[k] = T_NONE;
				if (op.kind == OP_EXEC)
					region_n = 0; /* the new image has no region; a forked child keeps a copy */
				break;
			}
			s->ops[s->n++] = op;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

/* Read a whole file from a descriptor (from offset 0). NULL with errno on failure. */
static char *read_fd(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap >= SCRIPT_BYTES_MAX) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			free(buf);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

/* ------------------------------------------------------------------------------ */
/* Script execution: the threads of a script process                              */

enum { C_NONE, C_OP, C_EXIT };

struct thr {
	pthread_t pt;
	enum tstate state;
	int spin, cpu;
	_Atomic int tid;
	_Atomic int cmd;  /* futex word: the command posted by thread 0, reset when taken */
	_Atomic int done; /* futex word: bumped when the thread has started or finished a command */
	const struct op *m_op; /* the operation of C_OP */
	long ret;
	int err;
};

static struct thr threads[THREADS_MAX + 1];

/* The region of the script's mmap (docs/host.md), shared by the threads of a process;
 * a forked child has a copy at the same address; gone after exec. */
static volatile char *region_base;
static long region_page;

static const int prot_bits[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };

/* The operations a thread can be asked to make: membarrier() and those on the region.
 * The return value as the line shows it, and *err the errno when it is -1. */
static long do_op(const struct op *op, int *err)
{
	long r = 0;
	size_t off = (size_t)op->first * (size_t)region_page, len = (size_t)op->count * (size_t)region_page;
	switch (op->kind) {
	case OP_MEMBARRIER:
		r = mb_call(op->cmd, op->flags, op->cpu_id);
		break;
	case OP_MMAP: {
		if (region_page == 0) {
			long ps = sysconf(_SC_PAGESIZE);
			region_page = ps > 0 ? ps : 4096;
		}
		void *m = mmap(NULL, (size_t)op->pages * (size_t)region_page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			r = -1;
		} else {
			region_base = m;
		}
		break;
	}
	case OP_TOUCH:
		/* One byte written in each page: a fault maps a fresh page where there was none. */
		for (long long k = 0; k < op->count; k++)
			region_base[(size_t)(op->first + k) * (size_t)region_page] = 1;
		break;
	case OP_MADVISE:
		r = madvise((void *)(region_base + off), len, MADV_DONTNEED) == 0 ? 0 : -1;
		break;
	case OP_MPROTECT:
		r = mprotect((void *)(region_base + off), len, prot_bits[op->prot]) == 0 ? 0 : -1;
		break;
	case OP_MUNMAP:
		r = munmap((void *)(region_base + off), len) == 0 ? 0 : -1;
		break;
	default:
		r = -1;
		errno = EINVAL;
		break;
	}
	*err = r == -1 ? errno : 0;
	return r;
}

static void thread_signal_done(struct thr *t)
{
	atomic_fetch_add_explicit(&t->done, 1, memory_order_release);
	futex_wake(&t->done);
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	atomic_store_explicit(&t->tid, my_tid(), memory_order_relaxed);
	if (t->spin) {
		int err = pin_to(0, t->cpu);
		t->ret = err ? -1 : 0;
		t->err = err;
	}
	thread_signal_done(t);
	for (;;) {
		int c;
		if (t->spin) {
			/* No PAUSE here (cpu_relax()): on a KVM guest a PAUSE loop lets the host
			 * deschedule the vCPU, which then gets no TLB shootdown IPI (docs/host.md). */
			while ((c = atomic_load_explicit(&t->cmd, memory_order_acquire)) == C_NONE) {
			}
		} else {
			while ((c = atomic_load_explicit(&t->cmd, memory_order_acquire)) == C_NONE)
				futex_wait(&t->cmd, C_NONE);
		}
		atomic_store_explicit(&t->cmd, C_NONE, memory_order_relaxed);
		if (c == C_EXIT) {
			thread_signal_done(t);
			syscall(SYS_exit, 0); /* the thread only: exit(2), not exit_group(2) */
		}
		int err;
		t->ret = do_op(t->m_op, &err);
		t->err = err;
		thread_signal_done(t);
	}
	return NULL;
}

/* Thread 0 posts a command to thread t and waits until it is carried out. */
static void post_and_wait(struct thr *t, int cmd)
{
	int before = atomic_load_explicit(&t->done, memory_order_acquire);
	atomic_store_explicit(&t->cmd, cmd, memory_order_release);
	if (!t->spin)
		futex_wake(&t->cmd);
	int now;
	while ((now = atomic_load_explicit(&t->done, memory_order_acquire)) == before)
		futex_wait(&t->done, now);
}

/* Wait until the kernel has released an exited thread (it is past exit_mm() and
 * gone from the thread group). */
static void wait_gone(pid_t tid)
{
	pid_t pid = getpid();
	while (syscall(SYS_tgkill, pid, tid, 0) == 0)
		sleep_ns(20000);
}

static int thread_spawn(int n, int spin, int cpu, int *err)
{
	struct thr *t = &threads[n];
	memset(t, 0, sizeof *t);
	t->spin = spin;
	t->cpu = cpu;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int rc = pthread_create(&t->pt, &attr, thread_main, t);
	pthread_attr_destroy(&attr);
	if (rc) {
		*err = rc;
		return -1;
	}
	t->state = T_ALIVE;
	int now;
	while ((now = atomic_load_explicit(&t->done, memory_order_acquire)) == 0)
		futex_wait(&t->done, now);
	*err = t->err;
	return t->ret == -1 ? -1 : 0;
}

static void thread_exit(int n)
{
	struct thr *t = &threads[n];
	post_and_wait(t, C_EXIT);
	wait_gone(atomic_load(&t->tid));
	t->state = T_EXITED;
}

/* End every thread of this process but thread 0 and join them all. */
static void stop_threads(void)
{
	for (int n = 1; n <= THREADS_MAX; n++) {
		if (threads[n].state == T_ALIVE)
			thread_exit(n);
		if (threads[n].state == T_EXITED)
			pthread_join(threads[n].pt, NULL);
		threads[n].state = T_NONE;
	}
}

/* The fd from which an exec'd image reads the script again, and the exec count. */
static int script_fd = -1;
static int execs_done;

static void op_failed(const struct op *op, int err)
{
	outf(2, "%s: script:%d: %s failed: %s; the script stops here\n", progname, op->line, op_names[op->kind],
	     strerror(err));
	stop_threads();
	exit(EXIT_OPFAILED);
}

/* Exit the way the child did: its exit status, or 128 + the signal that killed it. */
static int child_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_INTERNAL;
}

static void die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(EXIT_INTERNAL);
}

/* Run the operations of s from index first on; never returns. */
static void run_ops(const struct script *s, int first)
{
	for (int i = first; i < s->n; i++) {
		const struct op *op = &s->ops[i];
		int err = 0;
		long r = 0;
		switch (op->kind) {
		case OP_MEMBARRIER:
		case OP_MMAP:
		case OP_TOUCH:
		case OP_MADVISE:
		case OP_MPROTECT:
		case OP_MUNMAP:
			if (op->thread == 0) {
				tlb_start();
				r = do_op(op, &err);
				tlb_stop();
			} else {
				struct thr *t = &threads[op->thread];
				t->m_op = op;
				tlb_start();
				post_and_wait(t, C_OP);
				tlb_stop();
				r = t->ret;
				err = t->err;
			}
			print_line(op->line, op_names[op->kind], r, err);
			/* Without its region the script cannot go on (a touch would fault). */
			if (op->kind == OP_MMAP && r == -1)
				op_failed(op, err);
			break;
		case OP_SPAWN: {
			tlb_start();
			r = thread_spawn(op->thread, op->spin, op->cpu, &err);
			tlb_stop();
			print_line(op->line, "spawn", r, err);
			if (r == -1 && threads[op->thread].state != T_ALIVE)
				op_failed(op, err);
			break;
		}
		case OP_EXIT:
			tlb_start();
			thread_exit(op->thread);
			tlb_stop();
			print_line(op->line, "exit", 0, 0);
			break;
		case OP_JOIN: {
			tlb_start();
			int rc = pthread_join(threads[op->thread].pt, NULL);
			tlb_stop();
			threads[op->thread].state = T_NONE;
			print_line(op->line, "join", rc ? -1 : 0, rc);
			if (rc)
				op_failed(op, rc);
			break;
		}
		case OP_AFFINITY: {
			pid_t tid = op->thread == 0 ? 0 : atomic_load(&threads[op->thread].tid);
			tlb_start();
			err = pin_to(tid, op->cpu);
			tlb_stop();
			print_line(op->line, "affinity", err ? -1 : 0, err);
			break;
		}
		case OP_FORK: {
			int gate[2];
			if (pipe2(gate, O_CLOEXEC) != 0) {
				err = errno;
				print_line(op->line, "fork", -1, err);
				op_failed(op, err);
			}
			pid_t parent = getpid();
			pid_t child = fork();
			if (child < 0) {
				err = errno;
				print_line(op->line, "fork", -1, err);
				op_failed(op, err);
			}
			if (child == 0) {
				die_with_parent(parent);
				close(gate[1]);
				/* Wait until the parent has ended its threads (EOF on the gate). */
				char c;
				while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
				}
				close(gate[0]);
				/* This process's only thread is thread 0; the copies of the parent's
				 * thread records describe nothing here. */
				memset(threads, 0, sizeof threads);
				print_line(op->line, "fork", 0, 0);
				break;
			}
			close(gate[0]);
			stop_threads();
			close(gate[1]);
			int st;
			while (waitpid(child, &st, 0) < 0) {
				if (errno != EINTR)
					exit(EXIT_INTERNAL);
			}
			exit(child_status(st));
		}
		case OP_EXEC: {
			char fd[16], line[16], execs[16];
			snprintf(fd, sizeof fd, "%d", script_fd);
			snprintf(line, sizeof line, "%d", op->line);
			snprintf(execs, sizeof execs, "%d", execs_done + 1);
			char *argv[] = { (char *)progname, "resume", fd, line, execs, count_tlb ? "--tlb-ipis" : NULL, NULL };
			execv("/proc/self/exe", argv);
			err = errno;
			print_line(op->line, "exec", -1, err);
			op_failed(op, err);
			break;
		}
		}
	}
	stop_threads();
	exit(0);
}

/* ------------------------------------------------------------------------------ */
/* run: validation, then the supervisor and the script process                    */

static int load_script(int fd, struct script *s)
{
	size_t len;
	char *text = read_fd(fd, &len);
	if (!text) {
		outf(2, "%s: cannot read the script: %s\n", progname, strerror(errno));
		return EXIT_USAGE;
	}
	struct script_error e;
	int r = parse_script(text, len, online_cpus(), s, &e);
	free(text);
	if (r) {
		outf(2, "script:%d: error[%s] %s\n", e.line, e.code, e.msg);
		return EXIT_SCRIPT;
	}
	return 0;
}

/* A descriptor holding the script text that survives execve(): a memfd copy, so that
 * the new image reads exactly the text that was checked. */
static int script_memfd(int file_fd)
{
	size_t len;
	char *text = read_fd(file_fd, &len);
	if (!text)
		return -1;
#ifdef SYS_memfd_create
	int fd = (int)syscall(SYS_memfd_create, "smpcheck-script", 0);
#else
	int fd = -1;
#endif
	if (fd >= 0) {
		write_all(fd, text, len);
		free(text);
		return fd;
	}
	free(text);
	/* No memfd: the script file itself, open without close-on-exec. */
	return dup(file_fd);
}

static int64_t deadline_ms_left(int64_t deadline)
{
	int64_t left = (deadline - now_ns()) / 1000000;
	return left < 0 ? 0 : left;
}

static int supervise(const struct script *s, int timeout_ms)
{
	pid_t self = getpid();
	if (getpgrp() != self)
		setpgid(0, 0);
	int own_group = getpgrp() == self;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGUSR2, SIG_IGN); /* the sweep signal: fatal to the script processes only */
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);

	pid_t child = fork();
	if (child < 0) {
		outf(2, "%s: fork: %s\n", progname, strerror(errno));
		return EXIT_INTERNAL;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		signal(SIGUSR2, SIG_DFL);
		die_with_parent(self);
		run_ops(s, 0);
	}

	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	int child_st = -1, timed_out = 0, swept = 0;
	for (;;) {
		int st;
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
			if (w == child)
				child_st = st;
		}
		if (w < 0 && errno == ECHILD)
			break;
		if (child_st != -1 && !swept) {
			/* The script process is gone but something it left is not (a process
			 * orphaned by a killed parent): end it. */
			if (own_group)
				kill(0, SIGUSR2);
			swept = 1;
			deadline = now_ns() + 2000LL * 1000000;
		}
		if (deadline_ms_left(deadline) == 0) {
			if (timed_out || swept)
				break; /* nothing more can be done */
			timed_out = 1;
			outf(2, "%s: the script did not finish within %d ms; its processes were killed\n", progname, timeout_ms);
			kill(child, SIGKILL);
			if (own_group)
				kill(0, SIGUSR2);
			swept = 1;
			deadline = now_ns() + 2000LL * 1000000;
		}
		int64_t left = deadline_ms_left(deadline) + 1;
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000 };
		sigtimedwait(&chld, NULL, &ts);
	}
	if (timed_out)
		return EXIT_TIMEOUT;
	if (child_st == -1)
		return EXIT_INTERNAL;
	int code = child_status(child_st);
	if (WIFSIGNALED(child_st))
		outf(2, "%s: the script process was killed by signal %d (%s)\n", progname, WTERMSIG(child_st),
		     strsignal(WTERMSIG(child_st)));
	return code;
}

static int cmd_run(const char *path, int timeout_ms)
{
	static struct script s;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		outf(2, "%s: cannot open '%s': %s\n", progname, path, strerror(errno));
		return EXIT_USAGE;
	}
	int r = load_script(fd, &s);
	if (r) {
		close(fd);
		return r;
	}
	script_fd = script_memfd(fd);
	close(fd);
	if (script_fd < 0) {
		outf(2, "%s: cannot keep the script for exec: %s\n", progname, strerror(errno));
		return EXIT_INTERNAL;
	}
	return supervise(&s, timeout_ms);
}

static int cmd_resume(const char *fd_arg, const char *line_arg, const char *execs_arg)
{
	static struct script s;
	long fd = parse_arg(fd_arg, INT_MAX), line = parse_arg(line_arg, INT_MAX), execs = parse_arg(execs_arg, EXECS_MAX);
	if (fd < 0 || line < 1 || execs < 1) {
		outf(2, "%s: resume: bad arguments\n", progname);
		return EXIT_USAGE;
	}
	script_fd = (int)fd;
	execs_done = (int)execs;
	int r = load_script(script_fd, &s);
	if (r)
		return r;
	int i = 0;
	while (i < s.n && s.ops[i].line <= line)
		i++;
	if (i == 0 || s.ops[i - 1].line != line || s.ops[i - 1].kind != OP_EXEC) {
		outf(2, "%s: resume: line %ld of the script is not an exec\n", progname, line);
		return EXIT_INTERNAL;
	}
	print_line((int)line, "exec", 0, 0);
	run_ops(&s, i);
	return EXIT_INTERNAL; /* not reached */
}

/* ------------------------------------------------------------------------------ */
/* info                                                                            */

static void json_string(char *out, size_t cap, const char *s)
{
	size_t k = 0;
	if (cap < 3)
		return;
	out[k++] = '"';
	for (; *s && k + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c < 0x20) {
			k += (size_t)snprintf(out + k, cap - k, "\\u%04x", c);
		} else {
			out[k++] = (char)c;
		}
	}
	out[k++] = '"';
	out[k] = '\0';
}

static int cmd_info(void)
{
	struct utsname u;
	char rel[600];
	if (uname(&u) != 0)
		snprintf(u.release, sizeof u.release, "unknown");
	json_string(rel, sizeof rel, u.release);
	long q = mb_call(MB_QUERY, 0, 0);
	int err = q == -1 ? errno : 0;
	outf(1, "{\"uname\":%s,\"nprocs\":%d,\"query\":%ld,\"errno\":%d}\n", rel, online_cpus(), q, err);
	return 0;
}

/* ------------------------------------------------------------------------------ */
/* bench                                                                           */

struct sibling {
	_Alignas(64) _Atomic unsigned long spins; /* its own cache line: only the sibling writes it */
	pthread_t pt;
	int cpu;
};

static _Atomic int bench_stop;
static _Atomic int bench_ready;
static _Atomic int bench_pin_err;

static void *sibling_main(void *arg)
{
	struct sibling *sb = arg;
	int err = pin_to(0, sb->cpu);
	if (err)
		atomic_store(&bench_pin_err, err);
	atomic_fetch_add(&bench_ready, 1);
	unsigned long n = 0;
	while (!atomic_load_explicit(&bench_stop, memory_order_relaxed)) {
		atomic_store_explicit(&sb->spins, ++n, memory_order_relaxed);
		cpu_relax();
	}
	return NULL;
}

/* Sum of the "Function call interrupts" row of /proc/interrupts (CAL on x86), or -1. */
static long long call_ipis(void)
{
	FILE *f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	char line[8192];
	long long sum = -1;
	while (fgets(line, sizeof line, f)) {
		char *p = line;
		while (*p == ' ')
			p++;
		if (strncmp(p, "CAL:", 4) != 0 && !strstr(p, "Function call interrupts"))
			continue;
		p = strchr(p, ':');
		if (!p)
			continue;
		p++;
		sum = 0;
		for (;;) {
			char *q;
			errno = 0;
			long long v = strtoll(p, &q, 10);
			if (q == p || errno)
				break;
			sum += v;
			p = q;
		}
		break;
	}
	fclose(f);
	return sum;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "smpcheck-host: bench did not finish in time; stopped\n";
	write_all(2, msg, sizeof msg - 1);
	_exit(EXIT_TIMEOUT);
}

static int register_for(int cmd)
{
	switch (cmd) {
	case MB_GLOBAL_EXPEDITED:
		return MB_REGISTER_GLOBAL_EXPEDITED;
	case MB_PRIVATE_EXPEDITED:
		return MB_REGISTER_PRIVATE_EXPEDITED;
	case MB_PRIVATE_EXPEDITED_SYNC_CORE:
		return MB_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
	case MB_PRIVATE_EXPEDITED_RSEQ:
		return MB_REGISTER_PRIVATE_EXPEDITED_RSEQ;
	default:
		return -1;
	}
}

static void bench_fail(int cmd, unsigned flags, int cpu_id, int siblings, int calls, const char *stage, int err)
{
	outf(1,
	     "{\"cmd\":%d,\"flags\":%u,\"cpu_id\":%d,\"siblings\":%d,\"calls\":%d,\"cpus\":[],\"min_ns\":null,"
	     "\"median_ns\":null,\"p99_ns\":null,\"ipis\":null,\"running\":null,\"stage\":\"%s\",\"errno\":%d}\n",
	     cmd, flags, cpu_id, siblings, calls, stage, err);
}

/* Start n sibling threads running fn, and wait until each has said it is ready. */
static void start_siblings(struct sibling *sibs, int n, void *(*fn)(void *), const char *what)
{
	for (int k = 0; k < n; k++) {
		int rc = pthread_create(&sibs[k].pt, NULL, fn, &sibs[k]);
		if (rc) {
			outf(2, "%s: %s: pthread_create: %s\n", progname, what, strerror(rc));
			_exit(EXIT_INTERNAL);
		}
	}
	while (atomic_load(&bench_ready) < n)
		sleep_ns(100000);
}

/* A benchmark's set-up: its own process group, the watchdog, and the CPUs this
 * process may use (at least CPU 0), listed in cpus[]; returns how many. */
static int bench_setup(int timeout_ms, int *cpus)
{
	if (getpgrp() != getpid())
		setpgid(0, 0);
	signal(SIGALRM, on_alarm);
	struct itimerval it = { { 0, 0 }, { timeout_ms / 1000, (timeout_ms % 1000) * 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	cpu_set_t allowed;
	int ncpus = 0;
	if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
		CPU_ZERO(&allowed);
		CPU_SET(0, &allowed);
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[ncpus++] = c;
	return ncpus;
}

static int cmd_bench(int cmd, unsigned flags, int cpu_id, int cpu_sibling, int siblings, int calls, int register_first,
		     int timeout_ms)
{
	/* CPUs: thread 0 on the first CPU this process may use, the siblings on the
	 * others in turn (several per CPU only when there are more siblings than CPUs). */
	int cpus[CPU_SETSIZE];
	int ncpus = bench_setup(timeout_ms, cpus);
	int main_cpu = cpus[0];
	pin_to(0, main_cpu);
	static struct sibling sibs[BENCH_SIBLINGS_MAX];
	for (int k = 0; k < siblings; k++)
		sibs[k].cpu = ncpus > 1 ? cpus[1 + k % (ncpus - 1)] : main_cpu;
	if (cpu_sibling)
		cpu_id = siblings > 0 ? sibs[0].cpu : main_cpu;

	/*
	 * Registration comes once the siblings spin, so that it updates the runqueue
	 * copy of the membarrier state on their CPUs (sync_runqueues_membarrier_state()).
	 * Registered before they start (register_first, after thread 0 ran on their
	 * CPUs), a CPU whose idle task lazily holds this mm keeps a stale copy when a
	 * sibling is switched in (membarrier_switch_mm() skips a switch within one mm),
	 * and GLOBAL_EXPEDITED then skips that CPU: the bench can show it.
	 */
	int result = 0;
	int reg = register_for(cmd);
	if (register_first) {
		/* Thread 0 first runs on each sibling's CPU for a moment, so that the CPU's
		 * idle task then holds this mm lazily, as after a migration. */
		for (int k = 0; k < siblings && k < ncpus - 1; k++) {
			pin_to(0, sibs[k].cpu);
			for (int64_t until = now_ns() + 1000000; now_ns() < until;)
				cpu_relax();
		}
		pin_to(0, main_cpu);
		sleep_ns(1000000);
	}
	if (register_first && reg >= 0 && mb_call(reg, 0, 0) != 0) {
		bench_fail(cmd, flags, cpu_id, siblings, calls, "register", errno);
		return 0;
	}
	start_siblings(sibs, siblings, sibling_main, "bench");
	if (!register_first && reg >= 0 && mb_call(reg, 0, 0) != 0) {
		bench_fail(cmd, flags, cpu_id, siblings, calls, "register", errno);
		result = -1;
	}
	int64_t *d = malloc(sizeof *d * (size_t)calls);
	if (!d) {
		outf(2, "%s: bench: out of memory\n", progname);
		_exit(EXIT_INTERNAL);
	}
	int warm = calls / 10;
	warm = warm < 1 ? 1 : warm > 100 ? 100 : warm;
	for (int k = 0; k < warm && result == 0; k++) {
		if (mb_call(cmd, flags, cpu_id) < 0) {
			bench_fail(cmd, flags, cpu_id, siblings, calls, "call", errno);
			result = -1;
			break;
		}
	}
	/*
	 * `running` counts the timed calls during which every sibling was seen spinning
	 * (its counter moved between just before and just after the call): a sibling
	 * that another task preempts is not rq->curr of its CPU and gets no IPI.
	 */
	static unsigned long seen[BENCH_SIBLINGS_MAX];
	int running = 0;
	long long ipi0 = call_ipis();
	for (int k = 0; k < calls && result == 0; k++) {
		for (int s = 0; s < siblings; s++)
			seen[s] = atomic_load_explicit(&sibs[s].spins, memory_order_relaxed);
		int64_t t0 = now_ns();
		long r = mb_call(cmd, flags, cpu_id);
		int64_t t1 = now_ns();
		if (r < 0) {
			bench_fail(cmd, flags, cpu_id, siblings, calls, "call", errno);
			result = -1;
		}
		int all = 1;
		for (int s = 0; s < siblings && all; s++)
			all = atomic_load_explicit(&sibs[s].spins, memory_order_relaxed) != seen[s];
		/* The calls with every sibling running first, the others from the end. */
		if (all)
			d[running++] = t1 - t0;
		else
			d[calls - 1 - (k - running)] = t1 - t0;
	}
	long long ipi1 = call_ipis();
	atomic_store(&bench_stop, 1);
	for (int k = 0; k < siblings; k++)
		pthread_join(sibs[k].pt, NULL);
	if (result == 0) {
		/* The times are those of the calls made while every sibling ran (all of
		 * them when no sibling ever ran during a call). */
		int n = running > 0 ? running : calls;
		qsort(d, (size_t)n, sizeof *d, cmp_i64);
		/* nearest-rank percentiles */
		int64_t med = d[(n + 1) / 2 - 1];
		int64_t p99 = d[(int)(((long long)n * 99 + 99) / 100) - 1];
		char ipis[32], cpulist[4096];
		if (ipi0 >= 0 && ipi1 >= ipi0)
			snprintf(ipis, sizeof ipis, "%lld", ipi1 - ipi0);
		else
			snprintf(ipis, sizeof ipis, "null");
		size_t k = (size_t)snprintf(cpulist, sizeof cpulist, "[%d", main_cpu);
		for (int s = 0; s < siblings && k + 16 < sizeof cpulist; s++)
			k += (size_t)snprintf(cpulist + k, sizeof cpulist - k, ",%d", sibs[s].cpu);
		snprintf(cpulist + k, sizeof cpulist - k, "]");
		outf(1,
		     "{\"cmd\":%d,\"flags\":%u,\"cpu_id\":%d,\"siblings\":%d,\"calls\":%d,\"cpus\":%s,\"min_ns\":%lld,"
		     "\"median_ns\":%lld,\"p99_ns\":%lld,\"ipis\":%s,\"running\":%d,\"stage\":null,\"errno\":%d}\n",
		     cmd, flags, cpu_id, siblings, calls, cpulist, (long long)d[0], (long long)med, (long long)p99, ipis,
		     running, atomic_load(&bench_pin_err));
	}
	free(d);
	return 0;
}

/* ------------------------------------------------------------------------------ */
/* tlbbench: the madvise microbenchmark of the 2019 flush series (docs/host.md)   */

#define TLBBENCH_THREADS_MAX 256
#define TLBBENCH_ITERATIONS_MAX 10000000
#define TLBBENCH_REPEATS_MAX 100

static volatile char *tlbbench_region;
static long tlbbench_page;

/* A busy-waiting thread of the benchmark: it reads a word of the region's second
 * page (never the page that is discarded) in each spin, and counts its spins. */
static void *tlbbench_sibling(void *arg)
{
	struct sibling *sb = arg;
	int err = pin_to(0, sb->cpu);
	if (err)
		atomic_store(&bench_pin_err, err);
	volatile char *other = tlbbench_region + tlbbench_page;
	unsigned long n = 0;
	(void)other[0];
	atomic_fetch_add(&bench_ready, 1);
	while (!atomic_load_explicit(&bench_stop, memory_order_relaxed)) {
		(void)other[0];
		atomic_store_explicit(&sb->spins, ++n, memory_order_relaxed);
	}
	return NULL;
}

static int cmd_tlbbench(int nthreads, long iterations, int repeats, int timeout_ms)
{
	int cpus[CPU_SETSIZE];
	int ncpus = bench_setup(timeout_ms, cpus);
	int main_cpu = cpus[0];
	int err = pin_to(0, main_cpu);
	if (err)
		atomic_store(&bench_pin_err, err);

	tlbbench_page = sysconf(_SC_PAGESIZE);
	if (tlbbench_page < 1)
		tlbbench_page = 4096;
	void *m = mmap(NULL, (size_t)tlbbench_page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		outf(2, "%s: tlbbench: mmap: %s\n", progname, strerror(errno));
		return EXIT_INTERNAL;
	}
	tlbbench_region = m;
	tlbbench_region[0] = 1;
	tlbbench_region[tlbbench_page] = 1;

	static struct sibling sibs[TLBBENCH_THREADS_MAX];
	int siblings = nthreads - 1;
	for (int k = 0; k < siblings; k++)
		sibs[k].cpu = ncpus > 1 ? cpus[1 + k % (ncpus - 1)] : main_cpu;
	start_siblings(sibs, siblings, tlbbench_sibling, "tlbbench");

	/* One iteration: discard the first page, then write to it (a page fault that
	 * maps a fresh zeroed page). */
	volatile char *page = tlbbench_region;
	long warm = iterations / 10;
	warm = warm < 1 ? 1 : warm > 1000 ? 1000 : warm;
	for (long i = 0; i < warm; i++) {
		if (madvise((void *)page, (size_t)tlbbench_page, MADV_DONTNEED) != 0) {
			outf(2, "%s: tlbbench: madvise: %s\n", progname, strerror(errno));
			_exit(EXIT_INTERNAL);
		}
		page[0] = 1;
	}
	static int64_t ns[TLBBENCH_REPEATS_MAX];
	static long long ipis[TLBBENCH_REPEATS_MAX];
	static unsigned long seen[TLBBENCH_THREADS_MAX];
	int running = 0;
	for (int r = 0; r < repeats; r++) {
		for (int s = 0; s < siblings; s++)
			seen[s] = atomic_load_explicit(&sibs[s].spins, memory_order_relaxed);
		long long i0 = tlb_sum();
		int64_t t0 = now_ns();
		for (long i = 0; i < iterations; i++) {
			madvise((void *)page, (size_t)tlbbench_page, MADV_DONTNEED);
			page[0] = 1;
		}
		int64_t t1 = now_ns();
		long long i1 = tlb_sum();
		ns[r] = t1 - t0;
		ipis[r] = i0 >= 0 && i1 >= i0 ? i1 - i0 : -1;
		int all = 1;
		for (int s = 0; s < siblings && all; s++)
			all = atomic_load_explicit(&sibs[s].spins, memory_order_relaxed) != seen[s];
		running += all;
	}
	atomic_store(&bench_stop, 1);
	for (int k = 0; k < siblings; k++)
		pthread_join(sibs[k].pt, NULL);

	char out[16384];
	size_t k = (size_t)snprintf(out, sizeof out, "{\"threads\":%d,\"iterations\":%ld,\"repeats\":%d,\"cpus\":[%d", nthreads,
				    iterations, repeats, main_cpu);
	for (int s = 0; s < siblings && k + 32 < sizeof out; s++)
		k += (size_t)snprintf(out + k, sizeof out - k, ",%d", sibs[s].cpu);
	k += (size_t)snprintf(out + k, sizeof out - k, "],\"page_size\":%ld,\"ns\":[", tlbbench_page);
	for (int r = 0; r < repeats && k + 32 < sizeof out; r++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%lld", r ? "," : "", (long long)ns[r]);
	k += (size_t)snprintf(out + k, sizeof out - k, "],\"tlb_ipis\":[");
	for (int r = 0; r < repeats && k + 32 < sizeof out; r++) {
		if (ipis[r] < 0)
			k += (size_t)snprintf(out + k, sizeof out - k, "%snull", r ? "," : "");
		else
			k += (size_t)snprintf(out + k, sizeof out - k, "%s%lld", r ? "," : "", ipis[r]);
	}
	snprintf(out + k, sizeof out - k, "],\"running\":%d,\"errno\":%d}\n", running, atomic_load(&bench_pin_err));
	outf(1, "%s", out);
	munmap(m, (size_t)tlbbench_page * 2);
	return 0;
}

/* ------------------------------------------------------------------------------ */
/* pipebench and linebench: what `smpcheck host calibrate` measures besides the   */
/* membarrier and madvise benchmarks (docs/host.md)                               */

#define PIPEBENCH_ITERATIONS_MAX 10000000
#define PIPEBENCH_REPEATS_MAX 100
#define PIPEBENCH_WARM 1000

static int pipe_a[2], pipe_b[2];
static long pipebench_total;

static void pipe_io(int fd, int write_it, int *v)
{
	ssize_t n = write_it ? write(fd, v, sizeof *v) : read(fd, v, sizeof *v);
	if (n != (ssize_t)sizeof *v) {
		outf(2, "%s: pipebench: %s: %s\n", progname, write_it ? "write" : "read", n < 0 ? strerror(errno) : "short");
		_exit(EXIT_INTERNAL);
	}
}

/* The answering task: reads pipe a, answers on pipe b, as many times as the timer task asks. */
static void pipebench_answer(void)
{
	int v;
	for (long i = 0; i < pipebench_total; i++) {
		pipe_io(pipe_a[0], 0, &v);
		v += 1;
		pipe_io(pipe_b[1], 1, &v);
	}
}

static void *pipebench_thread(void *arg)
{
	(void)arg;
	pipebench_answer();
	return NULL;
}

/* One process or two: the benchmark of `perf bench sched pipe` (with -T: threads) under
 * `taskset` to one CPU: both tasks on the first CPU this process may use; one operation
 * is a write of 4 bytes to pipe a and a read of the answer on pipe b, so two switches. */
static int cmd_pipebench(int processes, long iterations, int repeats, int timeout_ms)
{
	int cpus[CPU_SETSIZE];
	bench_setup(timeout_ms, cpus);
	int err = pin_to(0, cpus[0]); /* inherited by the thread and the child */
	if (pipe(pipe_a) != 0 || pipe(pipe_b) != 0) {
		outf(2, "%s: pipebench: pipe: %s\n", progname, strerror(errno));
		return EXIT_INTERNAL;
	}
	pipebench_total = PIPEBENCH_WARM + iterations * repeats;
	pthread_t pt;
	pid_t child = -1;
	if (processes) {
		pid_t parent = getpid();
		child = fork();
		if (child < 0) {
			outf(2, "%s: pipebench: fork: %s\n", progname, strerror(errno));
			return EXIT_INTERNAL;
		}
		if (child == 0) {
			die_with_parent(parent);
			pipebench_answer();
			_exit(0);
		}
	} else {
		int rc = pthread_create(&pt, NULL, pipebench_thread, NULL);
		if (rc) {
			outf(2, "%s: pipebench: pthread_create: %s\n", progname, strerror(rc));
			return EXIT_INTERNAL;
		}
	}
	int v = 0;
	for (long i = 0; i < PIPEBENCH_WARM; i++) {
		pipe_io(pipe_a[1], 1, &v);
		pipe_io(pipe_b[0], 0, &v);
	}
	static int64_t ns[PIPEBENCH_REPEATS_MAX];
	static long switches[PIPEBENCH_REPEATS_MAX];
	for (int r = 0; r < repeats; r++) {
		struct rusage u0, u1;
		getrusage(RUSAGE_THREAD, &u0);
		int64_t t0 = now_ns();
		for (long i = 0; i < iterations; i++) {
			pipe_io(pipe_a[1], 1, &v);
			pipe_io(pipe_b[0], 0, &v);
		}
		int64_t t1 = now_ns();
		getrusage(RUSAGE_THREAD, &u1);
		ns[r] = t1 - t0;
		switches[r] = (u1.ru_nvcsw - u0.ru_nvcsw) + (u1.ru_nivcsw - u0.ru_nivcsw);
	}
	if (processes) {
		int st;
		waitpid(child, &st, 0);
	} else {
		pthread_join(pt, NULL);
	}
	char out[8192];
	size_t k = (size_t)snprintf(out, sizeof out, "{\"mode\":\"%s\",\"iterations\":%ld,\"repeats\":%d,\"cpu\":%d,\"ns\":[",
				    processes ? "processes" : "threads", iterations, repeats, cpus[0]);
	for (int r = 0; r < repeats && k + 32 < sizeof out; r++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%lld", r ? "," : "", (long long)ns[r]);
	k += (size_t)snprintf(out + k, sizeof out - k, "],\"switches\":[");
	for (int r = 0; r < repeats && k + 32 < sizeof out; r++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%ld", r ? "," : "", switches[r]);
	snprintf(out + k, sizeof out - k, "],\"errno\":%d}\n", err);
	outf(1, "%s", out);
	return 0;
}

static struct {
	_Alignas(64) _Atomic int word;
} linebench_line;
static long linebench_total;

/* The far end of the ping-pong: waits for 1, writes 0. */
static void *linebench_far(void *arg)
{
	struct sibling *sb = arg;
	int err = pin_to(0, sb->cpu);
	if (err)
		atomic_store(&bench_pin_err, err);
	atomic_fetch_add(&bench_ready, 1);
	for (long i = 0; i < linebench_total; i++) {
		while (atomic_load_explicit(&linebench_line.word, memory_order_acquire) != 1)
			;
		atomic_store_explicit(&linebench_line.word, 0, memory_order_release);
	}
	return NULL;
}

/* Cache-line ping-pong between the first two CPUs this process may use: one word,
 * written 1 by this thread when it reads 0 and 0 by the other when it reads 1; one
 * iteration is a round trip of the line (plain loads and stores, no PAUSE). */
static int cmd_linebench(long iterations, int repeats, int timeout_ms)
{
	int cpus[CPU_SETSIZE];
	int ncpus = bench_setup(timeout_ms, cpus);
	if (ncpus < 2) {
		outf(2, "%s: linebench: needs two CPUs, this process may use %d\n", progname, ncpus);
		return EXIT_INTERNAL;
	}
	int err = pin_to(0, cpus[0]);
	if (err)
		atomic_store(&bench_pin_err, err);
	linebench_total = PIPEBENCH_WARM + iterations * repeats;
	static struct sibling far;
	far.cpu = cpus[1];
	start_siblings(&far, 1, linebench_far, "linebench");
	static int64_t ns[PIPEBENCH_REPEATS_MAX];
	for (long i = 0; i < PIPEBENCH_WARM; i++) {
		while (atomic_load_explicit(&linebench_line.word, memory_order_acquire) != 0)
			;
		atomic_store_explicit(&linebench_line.word, 1, memory_order_release);
	}
	for (int r = 0; r < repeats; r++) {
		int64_t t0 = now_ns();
		for (long i = 0; i < iterations; i++) {
			while (atomic_load_explicit(&linebench_line.word, memory_order_acquire) != 0)
				;
			atomic_store_explicit(&linebench_line.word, 1, memory_order_release);
		}
		while (atomic_load_explicit(&linebench_line.word, memory_order_acquire) != 0)
			;
		ns[r] = now_ns() - t0;
	}
	pthread_join(far.pt, NULL);
	char out[8192];
	size_t k = (size_t)snprintf(out, sizeof out, "{\"iterations\":%ld,\"repeats\":%d,\"cpus\":[%d,%d],\"ns\":[", iterations,
				    repeats, cpus[0], cpus[1]);
	for (int r = 0; r < repeats && k + 32 < sizeof out; r++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%lld", r ? "," : "", (long long)ns[r]);
	snprintf(out + k, sizeof out - k, "],\"errno\":%d}\n", atomic_load(&bench_pin_err));
	outf(1, "%s", out);
	return 0;
}

/* ------------------------------------------------------------------------------ */

static int usage(void)
{
	outf(2,
	     "usage: %s run [--timeout-ms MS] [--tlb-ipis] SCRIPT_FILE\n"
	     "       %s info\n"
	     "       %s bench CMD FLAGS CPU_ID|sibling SIBLINGS CALLS [--register-first] [--timeout-ms MS]\n"
	     "       %s tlbbench THREADS ITERATIONS REPEATS [--timeout-ms MS]\n"
	     "       %s pipebench threads|processes ITERATIONS REPEATS [--timeout-ms MS]\n"
	     "       %s linebench ITERATIONS REPEATS [--timeout-ms MS]\n"
	     "(docs/host.md)\n",
	     progname, progname, progname, progname, progname, progname);
	return EXIT_USAGE;
}

/* Take an optional flag out of argv; 1 if it was there. */
static int take_flag(int *argc, char **argv, const char *flag)
{
	for (int i = 2; i < *argc; i++) {
		if (strcmp(argv[i], flag) != 0)
			continue;
		for (int k = i; k + 1 <= *argc; k++)
			argv[k] = argv[k + 1];
		*argc -= 1;
		return 1;
	}
	return 0;
}

/* Take an optional `--timeout-ms MS` out of argv; -1 on a bad value. */
static int take_timeout(int *argc, char **argv, int *timeout_ms)
{
	for (int i = 2; i < *argc; i++) {
		if (strcmp(argv[i], "--timeout-ms") != 0)
			continue;
		long v = i + 1 < *argc ? parse_arg(argv[i + 1], TIMEOUT_MS_MAX) : -1;
		if (v < 1)
			return -1;
		*timeout_ms = (int)v;
		for (int k = i; k + 2 <= *argc; k++)
			argv[k] = argv[k + 2];
		*argc -= 2;
		return 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 0 && argv[0][0])
		progname = argv[0];
	if (argc < 2)
		return usage();
	const char *mode = argv[1];
	int timeout_ms = TIMEOUT_MS_MAX;
	int register_first = take_flag(&argc, argv, "--register-first");
	count_tlb = take_flag(&argc, argv, "--tlb-ipis");
	if (take_timeout(&argc, argv, &timeout_ms)) {
		outf(2, "%s: --timeout-ms takes 1..%d\n", progname, TIMEOUT_MS_MAX);
		return EXIT_USAGE;
	}
	if (strcmp(mode, "run") == 0 && argc == 3) {
		/* Die with whoever started us; the script processes die with us. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return cmd_run(argv[2], timeout_ms);
	}
	if (strcmp(mode, "resume") == 0 && argc == 5)
		return cmd_resume(argv[2], argv[3], argv[4]);
	if (strcmp(mode, "info") == 0 && argc == 2)
		return cmd_info();
	if (strcmp(mode, "bench") == 0 && argc == 7) {
		long long cmd, flags, cpu_id = 0;
		int sibling = strcmp(argv[4], "sibling") == 0;
		long siblings = parse_arg(argv[5], BENCH_SIBLINGS_MAX), calls = parse_arg(argv[6], BENCH_CALLS_MAX);
		if (parse_int_arg(argv[2], INT_MIN, INT_MAX, &cmd) || parse_int_arg(argv[3], INT_MIN, UINT_MAX, &flags) ||
		    (!sibling && parse_int_arg(argv[4], INT_MIN, INT_MAX, &cpu_id)) || siblings < 0 || calls < 1) {
			outf(2, "%s: bench: bad arguments (SIBLINGS 0..%d, CALLS 1..%d)\n", progname, BENCH_SIBLINGS_MAX,
			     BENCH_CALLS_MAX);
			return EXIT_USAGE;
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return cmd_bench((int)cmd, (unsigned)(flags & 0xffffffffLL), (int)cpu_id, sibling, (int)siblings, (int)calls,
				 register_first, timeout_ms);
	}
	if (strcmp(mode, "tlbbench") == 0 && argc == 5) {
		long threads = parse_arg(argv[2], TLBBENCH_THREADS_MAX), iterations = parse_arg(argv[3], TLBBENCH_ITERATIONS_MAX),
		     repeats = parse_arg(argv[4], TLBBENCH_REPEATS_MAX);
		if (threads < 1 || iterations < 1 || repeats < 1) {
			outf(2, "%s: tlbbench: bad arguments (THREADS 1..%d, ITERATIONS 1..%d, REPEATS 1..%d)\n", progname,
			     TLBBENCH_THREADS_MAX, TLBBENCH_ITERATIONS_MAX, TLBBENCH_REPEATS_MAX);
			return EXIT_USAGE;
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return cmd_tlbbench((int)threads, iterations, (int)repeats, timeout_ms);
	}
	if (strcmp(mode, "pipebench") == 0 && argc == 5) {
		int processes = strcmp(argv[2], "processes") == 0;
		long iterations = parse_arg(argv[3], PIPEBENCH_ITERATIONS_MAX), repeats = parse_arg(argv[4], PIPEBENCH_REPEATS_MAX);
		if ((!processes && strcmp(argv[2], "threads") != 0) || iterations < 1 || repeats < 1) {
			outf(2, "%s: pipebench: bad arguments (threads|processes, ITERATIONS 1..%d, REPEATS 1..%d)\n", progname,
			     PIPEBENCH_ITERATIONS_MAX, PIPEBENCH_REPEATS_MAX);
			return EXIT_USAGE;
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return cmd_pipebench(processes, iterations, (int)repeats, timeout_ms);
	}
	if (strcmp(mode, "linebench") == 0 && argc == 4) {
		long iterations = parse_arg(argv[2], PIPEBENCH_ITERATIONS_MAX), repeats = parse_arg(argv[3], PIPEBENCH_REPEATS_MAX);
		if (iterations < 1 || repeats < 1) {
			outf(2, "%s: linebench: bad arguments (ITERATIONS 1..%d, REPEATS 1..%d)\n", progname,
			     PIPEBENCH_ITERATIONS_MAX, PIPEBENCH_REPEATS_MAX);
			return EXIT_USAGE;
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return cmd_linebench(iterations, (int)repeats, timeout_ms);
	}
	return usage();
}
