// SPDX-License-Identifier: GPL-2.0
// wcio: crash workload and verifier (built on the host, run in the guest,
// by tests/guest/cases/60-crash.sh and 62-logwrites.sh)
//
//   wcio run DEV REC REC_MIB SEED NBLOCKS HOT MAP_IN
//   wcio verify DEV REC REC_MIB MAP_IN MAP_OUT
//   wcio exact DEV NBLOCKS MAP
//   wcio fill DEV START COUNT ID
//   wcio readcheck DEV START COUNT ID [ID2]
//
// run: an endless sequence of operations on the first NBLOCKS 4 KiB blocks
// of DEV, generated from SEED: plain O_DIRECT writes (W), FUA writes (U:
// O_DIRECT, RWF_DSYNC through Linux AIO, which sends REQ_FUA and no flush),
// flushes (F: fsync of the block device), discards (D: BLKDISCARD) and read
// checks (R: the blocks must hold what was last written; a discarded block,
// zeros or any proper data of its own). Writes are 1-16 blocks, half of them in the
// first HOT blocks (overwrites). Each block written holds its block number
// and the id (SEED << 32 | op number) of the write, and data derived from
// both. After an F completes, a record "everything up to op N is durable"
// is written to REC (at REC_MIB MiB, 512-byte records, O_DIRECT with FUA)
// before the next op starts; after a U completes, "op N is durable". MAP_IN
// (or "zero") is what the blocks hold at the start.
//
// verify: replays the sequence to the op that would have written the first
// record that is missing, and checks every block of DEV: it must hold the
// last durable write to it, or a later write that was not durable yet (a
// write after the last flush, or one that may have been in flight at the
// crash). Writes MAP_OUT: what each block holds.
//
// exact: every block of DEV holds what MAP says.
//
// fill: blocks START..START+COUNT-1 of DEV get write ID's data (ID > 0).
// readcheck: each of those blocks, read alone, holds write ID (or ID2), or
// its read fails with EIO; anything else (zeros, another block's or
// another write's data, garbage) fails.  The last line counts both, for
// the caller to require errors, or none: "readcheck: COUNT blocks, N ok,
// E eio, W wrong".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef uint64_t u64;
typedef uint32_t u32;

#define BS 4096
#define WORDS (BS / 8)
#define REC_SIZE 512
#define REC_REGION (16u << 20)
#define MAX_LEN 16
#define FLUSH_EVERY 12
#define MAX_ND 256
#define DATA_MAGIC 0x3148534152434357ull /* "WCCRASH1" */
#define REC_MAGIC 0x3143455243435757ull  /* "WWCCREC1" */
#define BAD_ID (~0ull)
#define DISCARDED (~0ull - 1) /* run: discarded, not written since */
#define POISON 0xa5 /* what read buffers hold before the read */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#include <stdarg.h>
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "wcio: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	va_end(ap);
	fflush(stdout);
	exit(1);
}

static u64 mix(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

// --- the operation sequence ---------------------------------------------

struct gen {
	u64 state;
	u32 op, since_flush, nblocks, hot;
};

struct op {
	u32 n;
	char kind; // W U F R D
	u64 start;
	u32 len;
};

static u64 rnd(struct gen *g)
{
	g->state += 0x9e3779b97f4a7c15ull;
	return mix(g->state);
}

static void gen_init(struct gen *g, u32 seed, u32 nblocks, u32 hot)
{
	memset(g, 0, sizeof(*g));
	g->state = seed;
	g->nblocks = nblocks;
	g->hot = hot;
}

static void gen_next(struct gen *g, struct op *o)
{
	u64 r = rnd(g), r2 = rnd(g);
	u32 p = r % 100, area;

	o->n = ++g->op;
	o->start = 0;
	o->len = 0;
	if (g->since_flush >= FLUSH_EVERY || p < 10) {
		o->kind = 'F';
		g->since_flush = 0;
		return;
	}
	o->kind = p < 22 ? 'U' : p < 32 ? 'R' : p < 36 ? 'D' : 'W';
	o->len = 1 + (r >> 8) % MAX_LEN;
	area = ((r >> 20) & 1) ? g->hot : g->nblocks;
	o->start = r2 % area;
	if (o->start + o->len > g->nblocks)
		o->len = g->nblocks - o->start;
	if (o->kind != 'R')
		g->since_flush++;
}

static u64 make_id(u32 seed, u32 op) { return (u64)seed << 32 | op; }

// --- block contents ------------------------------------------------------

static void fill_block(u64 *w, u64 id, u64 block)
{
	u64 x = mix(id ^ mix(block + 0x1234567));

	w[0] = DATA_MAGIC;
	w[1] = id;
	w[2] = block;
	for (int i = 3; i < WORDS; i++)
		w[i] = mix(x + i);
}

// What a block holds: 0 (zeros), the id of a write, or BAD_ID (*why set).
static u64 identify(const u64 *w, u64 block, const char **why)
{
	static u64 want[WORDS] __attribute__((aligned(64)));
	int i;

	if (w[0] != DATA_MAGIC) {
		for (i = 0; i < WORDS; i++)
			if (w[i])
				break;
		if (i == WORDS)
			return 0;
		for (i = 0; i < BS; i++)
			if (((const unsigned char *)w)[i] != POISON)
				break;
		*why = i == BS ? "not filled by the read (still the buffer's poison)" : "garbage";
		return BAD_ID;
	}
	if (w[2] != block) {
		*why = "another block's data";
		return BAD_ID;
	}
	fill_block(want, w[1], block);
	if (memcmp(want, w, BS)) {
		*why = "torn or corrupt";
		return BAD_ID;
	}
	return w[1];
}

static void describe(char *buf, size_t len, u64 id)
{
	if (id == 0)
		snprintf(buf, len, "zeros");
	else if (id == BAD_ID)
		snprintf(buf, len, "bad");
	else
		snprintf(buf, len, "%u:%u", (u32)(id >> 32), (u32)id);
}

// A read of a block whose last write is `want` may return `got`: that
// write, or, when the block was discarded since (DISCARDED), zeros or any
// proper data of the block (the discard may or may not have reached the
// origin, and may or may not have dropped a cached copy).
static int holds(u64 want, u64 got)
{
	return want == DISCARDED ? got != BAD_ID : got == want;
}

// --- I/O helpers -----------------------------------------------------------

static void *abuf(size_t len)
{
	void *p;

	if (posix_memalign(&p, BS, len))
		die("out of memory");
	memset(p, 0, len);
	return p;
}

static void pwrite_all(int fd, const void *buf, size_t len, off_t off, const char *what)
{
	ssize_t r = pwrite(fd, buf, len, off);

	if (r != (ssize_t)len)
		die("%s: write of %zu at %lld: %s", what, len, (long long)off,
		    r < 0 ? strerror(errno) : "short write");
}

static void pread_all(int fd, void *buf, size_t len, off_t off, const char *what)
{
	ssize_t r;

	memset(buf, POISON, len);
	r = pread(fd, buf, len, off);

	if (r != (ssize_t)len)
		die("%s: read of %zu at %lld: %s", what, len, (long long)off,
		    r < 0 ? strerror(errno) : "short read");
}

static aio_context_t aio_ctx;

static void fua_write(int fd, const void *buf, size_t len, off_t off)
{
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	long r;

	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = fd;
	cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	cb.aio_buf = (u64)(unsigned long)buf;
	cb.aio_nbytes = len;
	cb.aio_offset = off;
	cb.aio_rw_flags = RWF_DSYNC;
	if (syscall(SYS_io_submit, aio_ctx, 1, cbs) != 1)
		die("io_submit: %s", strerror(errno));
	do
		r = syscall(SYS_io_getevents, aio_ctx, 1, 1, &ev, NULL);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		die("io_getevents: %s", strerror(errno));
	if (ev.res != (long long)len)
		die("FUA write of %zu at %lld: %s", len, (long long)off,
		    ev.res < 0 ? strerror(-ev.res) : "short write");
}

static u64 *load_map(const char *path, u32 nblocks)
{
	u64 *map = calloc(nblocks, sizeof(u64));
	FILE *f;

	if (!map)
		die("out of memory");
	if (!strcmp(path, "zero"))
		return map;
	f = fopen(path, "rb");
	if (!f || fread(map, sizeof(u64), nblocks, f) != nblocks)
		die("cannot read map %s", path);
	fclose(f);
	return map;
}

static void save_map(const char *path, const u64 *map, u32 nblocks)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(map, sizeof(u64), nblocks, f) != nblocks || fclose(f))
		die("cannot write map %s", path);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

// --- records ---------------------------------------------------------------

struct rec {
	u64 magic, seed, index, kind, op, nblocks, hot, check;
};

static u64 rec_check(const struct rec *r)
{
	return mix(r->magic ^ mix(r->seed ^ mix(r->index ^ mix(r->kind ^
		   mix(r->op ^ mix(r->nblocks ^ mix(r->hot)))))));
}

static u64 read_errors;
static int rec_fd;
static off_t rec_base;
static u64 rec_next;
static u64 *rec_buf;

static int write_rec(u32 seed, char kind, u32 op, u32 nblocks, u32 hot)
{
	struct rec *r = (struct rec *)rec_buf;

	if ((rec_next + 1) * REC_SIZE > REC_REGION)
		return -1;
	memset(rec_buf, 0, REC_SIZE);
	r->magic = REC_MAGIC;
	r->seed = seed;
	r->index = rec_next;
	r->kind = kind;
	r->op = op;
	r->nblocks = nblocks;
	r->hot = hot;
	r->check = rec_check(r);
	/*
	 * FUA, not a write and a flush: on a log-writes device shared with
	 * the target's devices (62-logwrites), a flush would also make the
	 * target's unflushed writes durable and hide a missing flush of its
	 * own; a FUA write is logged alone, in completion order.
	 */
	fua_write(rec_fd, rec_buf, REC_SIZE, rec_base + rec_next * REC_SIZE);
	rec_next++;
	return 0;
}

static void print_blocks(const u64 *cur, u64 start, u32 len)
{
	printf("last writes to blocks %llu..%llu:", (unsigned long long)start,
	       (unsigned long long)(start + len - 1));
	for (u32 i = 0; i < len; i++) {
		char d[32];

		describe(d, sizeof(d), cur[start + i]);
		printf(" %s", d);
	}
	printf("\n");
}

// --- run ---------------------------------------------------------------------

static int cmd_run(char **argv)
{
	const char *dev = argv[0];
	u32 seed = strtoul(argv[3], NULL, 0), nblocks = strtoul(argv[4], NULL, 0);
	u32 hot = strtoul(argv[5], NULL, 0);
	u64 *cur = load_map(argv[6], nblocks), *buf = abuf(MAX_LEN * BS);
	unsigned char *unflushed = calloc(nblocks, 1);	/* written since the last flush */
	u64 n_w = 0, n_u = 0, n_f = 0, n_r = 0, n_d = 0, bytes = 0;
	double t0 = now(), last = t0;
	struct gen g;
	struct op o;
	int fd;

	if (!seed || !nblocks || !hot || hot > nblocks)
		die("bad arguments");
	if (!unflushed)
		die("out of memory");
	fd = open(dev, O_RDWR | O_DIRECT);
	rec_fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || rec_fd < 0)
		die("cannot open %s or %s: %s", dev, argv[1], strerror(errno));
	rec_base = (off_t)strtoul(argv[2], NULL, 0) << 20;
	rec_buf = abuf(REC_SIZE);
	if (syscall(SYS_io_setup, 4, &aio_ctx))
		die("io_setup: %s", strerror(errno));

	write_rec(seed, 'S', 0, nblocks, hot);
	printf("wcio run: seed %u, %u blocks (%u hot)\n", seed, nblocks, hot);
	fflush(stdout);
	gen_init(&g, seed, nblocks, hot);
	for (;;) {
		gen_next(&g, &o);
		switch (o.kind) {
		case 'W':
		case 'U':
			for (u32 i = 0; i < o.len; i++) {
				fill_block(buf + i * WORDS, make_id(seed, o.n), o.start + i);
				cur[o.start + i] = make_id(seed, o.n);
			}
			if (o.kind == 'W') {
				pwrite_all(fd, buf, (size_t)o.len * BS, o.start * BS, "write");
				memset(unflushed + o.start, 1, o.len);
				n_w++;
			} else {
				/*
				 * dm-log-writes (62-logwrites) logs a plain write
				 * at the next flush and a FUA write at once, so a
				 * FUA write over a plain one not yet flushed would
				 * replay before it, in the wrong order.  A flush
				 * first keeps the log exact; it is not in the
				 * sequence, so it only makes more writes durable,
				 * which the checker allows.
				 */
				if (memchr(unflushed + o.start, 1, o.len)) {
					if (fsync(fd))
						die("fsync (flush) of %s: %s", dev, strerror(errno));
					memset(unflushed, 0, nblocks);
				}
				fua_write(fd, buf, (size_t)o.len * BS, o.start * BS);
				n_u++;
			}
			bytes += (u64)o.len * BS;
			break;
		case 'F':
			if (fsync(fd))
				die("fsync (flush) of %s: %s", dev, strerror(errno));
			memset(unflushed, 0, nblocks);
			n_f++;
			break;
		case 'D': {
			u64 range[2] = { o.start * BS, (u64)o.len * BS };

			if (ioctl(fd, BLKDISCARD, range))
				die("discard of blocks %llu+%u: %s", (unsigned long long)o.start,
				    o.len, strerror(errno));
			for (u32 i = 0; i < o.len; i++)
				cur[o.start + i] = DISCARDED;
			n_d++;
			break;
		}
		case 'R':
			pread_all(fd, buf, (size_t)o.len * BS, o.start * BS, "read check");
			for (u32 i = 0; i < o.len; i++) {
				const char *why = "";
				u64 b = o.start + i, id = identify(buf + i * WORDS, b, &why);
				char got[32], want[32];

				if (!holds(cur[b], id)) {
					u64 *one = abuf(BS), id1;
					const char *why1 = "";
					char hdr[32], again[32];

					describe(got, sizeof(got), id);
					describe(want, sizeof(want), cur[b]);
					describe(hdr, sizeof(hdr), buf[i * WORDS + 1]);
					pread_all(fd, one, BS, b * BS, "read check");
					id1 = identify(one, b, &why1);
					describe(again, sizeof(again), id1);
					free(one);
					if (!holds(cur[b], id1) || read_errors < 5) {
						printf("op %u: a read of blocks %llu..%llu: block %llu holds %s%s%s "
						       "(header: block %llu, id %s), last written %s; "
						       "read alone it holds %s%s%s\n",
						       o.n, (unsigned long long)o.start,
						       (unsigned long long)(o.start + o.len - 1),
						       (unsigned long long)b, got, *why ? ": " : "", why,
						       (unsigned long long)buf[i * WORDS + 2], hdr, want,
						       again, *why1 ? ": " : "", why1);
						print_blocks(cur, o.start, o.len);
					}
					if (!holds(cur[b], id1))
						die("read check failed: the data is wrong");
					// the block is right, only this read of it was not
					printf("READ-CHECK FAILED: op %u, a %u-block read from block %llu\n",
					       o.n, o.len, (unsigned long long)o.start);
					read_errors++;
					break;
				}
			}
			n_r++;
			break;
		}
		if ((o.kind == 'F' || o.kind == 'U') && write_rec(seed, o.kind, o.n, nblocks, hot)) {
			printf("wcio run: record region full after op %u; stopping\n", o.n);
			return 0;
		}
		if (now() - last >= 5) {
			last = now();
			printf("wcio run: %.0fs: op %u (W %llu, U %llu, F %llu, R %llu, D %llu), "
			       "%llu MiB written, %llu failed read checks\n",
			       last - t0, o.n, (unsigned long long)n_w, (unsigned long long)n_u,
			       (unsigned long long)n_f, (unsigned long long)n_r, (unsigned long long)n_d,
			       (unsigned long long)(bytes >> 20), (unsigned long long)read_errors);
			fflush(stdout);
		}
	}
}

// --- verify ------------------------------------------------------------------

struct nd {
	u32 op;
	u64 start;
	u32 len;
};

// Reads the blocks in 1 MiB reads. A block that such a read returns wrong
// is read again alone: if that gives a proper block, the multi-block read
// was at fault (reported as READ-CHECK FAILED) and the block's own content
// is used.
static void read_blocks(int fd, u32 nblocks, u64 *out)
{
	size_t chunk = 256;
	u64 *buf = abuf(chunk * BS), *one = abuf(BS);
	u32 nbad = 0, nreads = 0;

	for (u64 b = 0; b < nblocks; b += chunk) {
		size_t n = nblocks - b < chunk ? nblocks - b : chunk;
		int read_failed = 0;

		pread_all(fd, buf, n * BS, b * BS, "verify read");
		for (size_t i = 0; i < n; i++) {
			const char *why = "", *why1 = "";
			const u64 *w = buf + i * WORDS;
			char id[32];
			u64 id1;

			out[b + i] = identify(w, b + i, &why);
			if (out[b + i] != BAD_ID)
				continue;
			pread_all(fd, one, BS, (b + i) * BS, "verify read");
			id1 = identify(one, b + i, &why1);
			if (nbad < 10) {
				describe(id, sizeof(id), w[1]);
				printf("block %llu: %s (header: block %llu, id %s) in a read of "
				       "blocks %llu..%llu; read alone: %s\n",
				       (unsigned long long)(b + i), why, (unsigned long long)w[2], id,
				       (unsigned long long)b, (unsigned long long)(b + n - 1),
				       id1 == BAD_ID ? why1 : "a proper block");
			}
			nbad++;
			if (id1 != BAD_ID) {
				out[b + i] = id1;
				read_failed = 1;
			}
		}
		if (read_failed) {
			printf("READ-CHECK FAILED: a %zu-block read from block %llu\n", n,
			       (unsigned long long)b);
			nreads++;
		}
	}
	if (nbad)
		printf("wcio: %u blocks read wrong, %u multi-block reads at fault\n", nbad, nreads);
	free(buf);
	free(one);
}

static int cmd_verify(char **argv)
{
	const char *dev = argv[0];
	off_t base = (off_t)strtoul(argv[2], NULL, 0) << 20;
	u64 *rbuf = abuf(REC_REGION), *got, *dur;
	u32 *disc;	// the last discard op of each block, 0 if none
	struct rec *r = (struct rec *)rbuf, *h;
	u32 seed, nblocks, hot, fmax = 0, rmax = 0, nrec, n_f = 0, n_u = 0, n_d = 0;
	unsigned char *fua_ok;
	struct nd nd[MAX_ND];
	int n_nd = 0, fd, rfd, failed = 0;
	u64 stat_dur_new = 0, stat_dur_old = 0, stat_nd_new = 0, stat_nd_old = 0, stat_disc = 0;
	struct gen g;
	struct op o;

	rfd = open(argv[1], O_RDONLY | O_DIRECT);
	if (rfd < 0)
		die("cannot open %s: %s", argv[1], strerror(errno));
	pread_all(rfd, rbuf, REC_REGION, base, "record region");
	h = r;
	if (h->magic != REC_MAGIC || h->index != 0 || h->kind != 'S' || h->check != rec_check(h))
		die("no start record: the workload never started");
	seed = h->seed;
	nblocks = h->nblocks;
	hot = h->hot;
	fua_ok = calloc(1, REC_REGION / REC_SIZE * 64 + 1);
	for (nrec = 1; nrec < REC_REGION / REC_SIZE; nrec++) {
		struct rec *x = (struct rec *)((char *)rbuf + (size_t)nrec * REC_SIZE);

		if (x->magic != REC_MAGIC || x->seed != seed || x->index != nrec ||
		    x->check != rec_check(x))
			break;
		if (x->op <= rmax)
			die("record %u: op %llu after op %u", nrec, (unsigned long long)x->op, rmax);
		rmax = x->op;
		if (x->kind == 'F') {
			fmax = x->op;
			n_f++;
		} else if (x->kind == 'U') {
			n_u++;
		} else {
			die("record %u: kind %llu", nrec, (unsigned long long)x->kind);
		}
	}
	if (rmax >= REC_REGION / REC_SIZE * 64)
		die("too many ops");
	for (u32 i = 1; i < nrec; i++) {
		struct rec *x = (struct rec *)((char *)rbuf + (size_t)i * REC_SIZE);

		if (x->kind == 'U')
			fua_ok[x->op] = 1;
	}

	dur = load_map(argv[3], nblocks);
	got = calloc(nblocks, sizeof(u64));
	disc = calloc(nblocks, sizeof(u32));
	if (!got || !disc)
		die("out of memory");
	gen_init(&g, seed, nblocks, hot);
	for (;;) {
		gen_next(&g, &o);
		if (o.kind == 'D') {
			// done, or maybe in flight at the crash: either way
			// the blocks may now hold any of their data
			for (u32 i = 0; i < o.len; i++)
				disc[o.start + i] = o.n;
			n_d++;
			continue;
		}
		if (o.n <= rmax) {
			// every F and U up to the last record has its record
			if (o.kind == 'F' && o.n > fmax)
				die("flush op %u has no record, but op %u has", o.n, rmax);
			if (o.kind == 'U' && !fua_ok[o.n])
				die("FUA op %u has no record, but op %u has", o.n, rmax);
			if (o.kind == 'F' || o.kind == 'R')
				continue;
			if (o.n <= fmax || o.kind == 'U') {
				for (u32 i = 0; i < o.len; i++)
					dur[o.start + i] = make_id(seed, o.n);
				continue;
			}
		} else if (o.kind == 'F' || o.kind == 'R') {
			if (o.kind == 'F')
				break;
			continue;
		}
		// completed after the last flush, or maybe in flight at the crash
		if (n_nd == MAX_ND)
			die("too many writes without a flush");
		nd[n_nd].op = o.n;
		nd[n_nd].start = o.start;
		nd[n_nd].len = o.len;
		n_nd++;
		if (o.n > rmax && o.kind == 'U')
			break;
	}
	printf("wcio verify: seed %u: %u records (F %u, U %u), last flush op %u, last record op %u, "
	       "%d writes not durable (the ops after op %u up to op %u), %u discards\n",
	       seed, nrec - 1, n_f, n_u, fmax, rmax, n_nd, fmax, o.n, n_d);

	fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0)
		die("cannot open %s: %s", dev, strerror(errno));
	read_blocks(fd, nblocks, got);
	for (u64 b = 0; b < nblocks; b++) {
		u64 id = got[b];
		int ok = 0, has_nd = 0;

		for (int i = 0; i < n_nd; i++) {
			if (b < nd[i].start || b >= nd[i].start + nd[i].len)
				continue;
			if (dur[b] >> 32 == seed && nd[i].op < (u32)dur[b])
				continue; // superseded by a durable write
			has_nd = 1;
			if (id == make_id(seed, nd[i].op))
				ok = 1;
		}
		if (ok) {
			stat_nd_new++;
			continue;
		}
		// discarded, and no durable write to the block since: zeros or
		// any proper data of the block
		if (disc[b] && !(dur[b] >> 32 == seed && (u32)dur[b] > disc[b]) && id != BAD_ID) {
			stat_disc++;
			continue;
		}
		if (id == dur[b]) {
			if (has_nd)
				stat_nd_old++;
			else if (id >> 32 == seed)
				stat_dur_new++;
			else
				stat_dur_old++;
			continue;
		}
		if (failed < 20) {
			char g1[32], w1[32];

			describe(g1, sizeof(g1), id);
			describe(w1, sizeof(w1), dur[b]);
			printf("MISMATCH block %llu: holds %s, last durable write %s",
			       (unsigned long long)b, g1, w1);
			for (int i = 0; i < n_nd; i++)
				if (b >= nd[i].start && b < nd[i].start + nd[i].len)
					printf(", not durable: %u:%u", seed, nd[i].op);
			printf("\n");
		}
		failed++;
	}
	printf("wcio verify: %u blocks: %llu hold a durable write of this run, %llu older data, "
	       "%llu a non-durable write, %llu the durable data under a non-durable write, "
	       "%llu discarded blocks (zeros or any data of their own); %d mismatches\n",
	       nblocks, (unsigned long long)stat_dur_new, (unsigned long long)stat_dur_old,
	       (unsigned long long)stat_nd_new, (unsigned long long)stat_nd_old,
	       (unsigned long long)stat_disc, failed);
	save_map(argv[4], got, nblocks);
	if (n_f == 0)
		die("no flush was recorded: the workload did not get far enough");
	return failed ? 1 : 0;
}

static int cmd_exact(char **argv)
{
	u32 nblocks = strtoul(argv[1], NULL, 0), failed = 0;
	u64 *want = load_map(argv[2], nblocks), *got = calloc(nblocks, sizeof(u64));
	int fd = open(argv[0], O_RDONLY | O_DIRECT);

	if (fd < 0 || !got)
		die("cannot open %s", argv[0]);
	read_blocks(fd, nblocks, got);
	for (u64 b = 0; b < nblocks; b++) {
		if (got[b] == want[b])
			continue;
		if (failed < 20) {
			char g1[32], w1[32];

			describe(g1, sizeof(g1), got[b]);
			describe(w1, sizeof(w1), want[b]);
			printf("MISMATCH block %llu: holds %s, expected %s\n",
			       (unsigned long long)b, g1, w1);
		}
		failed++;
	}
	printf("wcio exact: %s: %u blocks, %u mismatches\n", argv[0], nblocks, failed);
	return failed ? 1 : 0;
}

static int cmd_fill(char **argv)
{
	u64 start = strtoull(argv[1], NULL, 0), count = strtoull(argv[2], NULL, 0);
	u64 id = strtoull(argv[3], NULL, 0), chunk = 64;
	u64 *buf = abuf(chunk * BS);
	int fd = open(argv[0], O_WRONLY | O_DIRECT);

	if (fd < 0 || !id || id >= DISCARDED)
		die("fill: cannot open %s, or a bad id", argv[0]);
	for (u64 b = 0; b < count; b += chunk) {
		u64 n = count - b < chunk ? count - b : chunk;

		for (u64 i = 0; i < n; i++)
			fill_block(buf + i * WORDS, id, start + b + i);
		pwrite_all(fd, buf, n * BS, (off_t)(start + b) * BS, "fill");
	}
	if (fsync(fd))
		die("fill: fsync of %s: %s", argv[0], strerror(errno));
	close(fd);
	printf("wcio fill: %s: blocks %llu+%llu hold write %llu\n", argv[0],
	       (unsigned long long)start, (unsigned long long)count, (unsigned long long)id);
	return 0;
}

static int cmd_readcheck(int argc, char **argv)
{
	u64 start = strtoull(argv[1], NULL, 0), count = strtoull(argv[2], NULL, 0);
	u64 id1 = strtoull(argv[3], NULL, 0), id2 = argc > 4 ? strtoull(argv[4], NULL, 0) : id1;
	u64 *buf = abuf(BS), ok = 0, eio = 0, wrong = 0;
	int fd = open(argv[0], O_RDONLY | O_DIRECT);

	if (fd < 0)
		die("readcheck: cannot open %s: %s", argv[0], strerror(errno));
	for (u64 b = start; b < start + count; b++) {
		const char *why = "another write's data";
		ssize_t r;
		u64 got;

		memset(buf, POISON, BS);
		r = pread(fd, buf, BS, (off_t)b * BS);
		if (r < 0 && errno == EIO) {
			eio++;
			continue;
		}
		if (r != BS)
			die("readcheck: read of block %llu: %s", (unsigned long long)b,
			    r < 0 ? strerror(errno) : "short read");
		got = identify(buf, b, &why);
		if (got == id1 || got == id2) {
			ok++;
			continue;
		}
		if (wrong++ < 10) {
			char g[32];

			describe(g, sizeof(g), got);
			printf("WRONG block %llu: holds %s%s%s, expected write %llu%s\n",
			       (unsigned long long)b, g, got == BAD_ID ? ": " : "", got == BAD_ID ? why : "",
			       (unsigned long long)id1, id2 != id1 ? " or the other" : "");
		}
	}
	close(fd);
	printf("readcheck: %llu blocks, %llu ok, %llu eio, %llu wrong\n",
	       (unsigned long long)count, (unsigned long long)ok, (unsigned long long)eio,
	       (unsigned long long)wrong);
	return wrong ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 9 && !strcmp(argv[1], "run"))
		return cmd_run(argv + 2);
	if (argc == 7 && !strcmp(argv[1], "verify"))
		return cmd_verify(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "exact"))
		return cmd_exact(argv + 2);
	if (argc == 6 && !strcmp(argv[1], "fill"))
		return cmd_fill(argv + 2);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "readcheck"))
		return cmd_readcheck(argc - 2, argv + 2);
	fprintf(stderr, "usage: wcio run DEV REC REC_MIB SEED NBLOCKS HOT MAP_IN\n"
			"       wcio verify DEV REC REC_MIB MAP_IN MAP_OUT\n"
			"       wcio exact DEV NBLOCKS MAP\n"
			"       wcio fill DEV START COUNT ID\n"
			"       wcio readcheck DEV START COUNT ID [ID2]\n");
	return 2;
}
