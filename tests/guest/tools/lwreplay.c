// SPDX-License-Identifier: GPL-2.0
// lwreplay: replays a dm-log-writes log (built on the host, run in the
// guest by tests/guest/cases/62-logwrites.sh).
//
//   lwreplay scan LOG              one line per entry: "INDEX FLAGS SECTOR NR"
//   lwreplay apply LOG DEV FROM TO writes entries FROM..TO-1 to DEV, fsyncs
//
// dm-log-writes logs a write only once it is durable: a plain write when a
// flush submitted after its completion completes, a FUA write at its own
// completion.  So the device the log's first N entries describe is one a
// power cut could have left, with everything that was never flushed lost.
// One order it cannot keep: a plain write not yet flushed, then a FUA write
// to the same sectors, are logged FUA first (the plain one at the flush),
// and replay the wrong way round; wcio flushes before such a FUA write.
// The format (drivers/md/dm-log-writes.c): a super block in sector 0, then
// per entry a sector holding struct log_write_entry (and a mark's text),
// followed by the entry's data unless it is a discard.  Sectors are the
// logged device's logical block size, 512 bytes here.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_FLUSH_FLAG (1 << 0)
#define LOG_FUA_FLAG (1 << 1)
#define LOG_DISCARD_FLAG (1 << 2)
#define LOG_MARK_FLAG (1 << 3)
#define WRITE_LOG_MAGIC 0x6a736677736872ULL
#define WRITE_LOG_VERSION 1ULL

struct log_write_super {
	uint64_t magic, version, nr_entries;
	uint32_t sectorsize;
} __attribute__((packed));

struct log_write_entry {
	uint64_t sector, nr_sectors, flags, data_len;
};

static void die(const char *fmt, const char *a)
{
	fprintf(stdout, "lwreplay: ");
	fprintf(stdout, fmt, a);
	fprintf(stdout, "\n");
	exit(1);
}

static int log_fd;
static uint32_t ss;
static uint64_t nr_entries;

static void open_log(const char *path)
{
	struct log_write_super sb;

	log_fd = open(path, O_RDONLY);
	if (log_fd < 0)
		die("cannot open %s", path);
	if (pread(log_fd, &sb, sizeof(sb), 0) != sizeof(sb))
		die("cannot read the super block of %s", path);
	if (sb.magic != WRITE_LOG_MAGIC || sb.version != WRITE_LOG_VERSION)
		die("%s is not a dm-log-writes log", path);
	ss = sb.sectorsize;
	if (ss != 512)
		die("%s: only 512-byte sectors are handled", path);
	nr_entries = sb.nr_entries;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	uint64_t pos, i, from = 0, to = 0;
	int apply, dev_fd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "scan")) {
		apply = 0;
	} else if (argc == 6 && !strcmp(argv[1], "apply")) {
		apply = 1;
		from = strtoull(argv[4], NULL, 0);
		to = strtoull(argv[5], NULL, 0);
		dev_fd = open(argv[3], O_WRONLY);
		if (dev_fd < 0)
			die("cannot open %s", argv[3]);
	} else {
		fprintf(stderr, "usage: lwreplay scan LOG | lwreplay apply LOG DEV FROM TO\n");
		return 2;
	}
	open_log(argv[2]);
	if (apply && to > nr_entries)
		die("%s: not that many entries", argv[2]);

	pos = 1;	/* in sectors: the super block takes the first */
	for (i = 0; i < (apply ? to : nr_entries); i++) {
		struct log_write_entry e;
		uint64_t data;

		if (pread(log_fd, &e, sizeof(e), pos * ss) != sizeof(e))
			die("%s: short log", argv[2]);
		data = (e.flags & LOG_DISCARD_FLAG) ? 0 : e.nr_sectors;
		if (!apply)
			printf("%llu %llu %llu %llu\n", (unsigned long long)i,
			       (unsigned long long)e.flags, (unsigned long long)e.sector,
			       (unsigned long long)e.nr_sectors);
		/*
		 * Discards are not replayed: until a durable write, a
		 * discarded block may hold anything of its own (wcio's rule).
		 */
		if (apply && i >= from && data) {
			uint64_t done = 0;

			while (done < data) {
				uint64_t n = data - done;
				ssize_t r;

				if (n > sizeof(buf) / ss)
					n = sizeof(buf) / ss;
				r = pread(log_fd, buf, n * ss, (pos + 1 + done) * ss);
				if (r != (ssize_t)(n * ss))
					die("%s: short data", argv[2]);
				if (pwrite(dev_fd, buf, n * ss, (e.sector + done) * ss) != r)
					die("cannot write %s", argv[3]);
				done += n;
			}
		}
		pos += 1 + data;
	}
	if (apply && fsync(dev_fd))
		die("cannot fsync %s", argv[3]);
	if (!apply)
		fprintf(stderr, "lwreplay: %llu entries\n", (unsigned long long)nr_entries);
	return 0;
}
