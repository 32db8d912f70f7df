/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The writecache core: every decision of the cache, behind a C interface.
 *
 * The caller owns the devices, the bios, the threads and one lock; it calls
 * every function here with that lock held.  The core never blocks and never
 * does I/O itself: it answers map requests with a decision, and it
 * describes every multi-step persistence sequence (commit, format, load,
 * writeback retirement) as a program of I/O operations that the caller
 * executes one step at a time.  That keeps the ordering rules in one place,
 * the same for both builds.  The caller is the driver (wc_driver.h), one C
 * source shared by the kernel target and the userspace model, which carries
 * the decisions out over each side's ops.
 *
 * Builtin types only: this header is compiled as C and as freestanding C++,
 * and the kernel's 64-bit typedefs differ from the C++ compiler's.
 */
#ifndef WC_CORE_H
#define WC_CORE_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * errno values, as the kernel defines them on every architecture; the core
 * returns them negated.
 */
#define WC_EIO		5
#define WC_ENOMEM	12
#define WC_EBUSY	16
#define WC_EINVAL	22
#define WC_EFBIG	27
#define WC_ENOSPC	28
#define WC_ENODATA	61
#define WC_EOVERFLOW	75
#define WC_EOPNOTSUPP	95

/* Size of the buffer the caller lends to each metadata I/O step. */
#define WC_META_BUF_BYTES	65536U

struct wc_core;

/*
 * A cache block: its index in the cache area, 0 to n_blocks - 1.  A type
 * of its own, so that it is never mistaken for an origin sector, which is
 * always an unsigned long long named *_sector.
 */
struct wc_block {
	unsigned int index;
};

/* What the core needs to know about the devices while parsing the table. */
struct wc_dev_info {
	unsigned long long cache_bytes;
	unsigned int origin_logical_block_size;
	unsigned int cache_logical_block_size;
	unsigned int page_size;
	/* default writeback_jobs: min(256 MiB / page size, RAM pages / 16) */
	unsigned int default_writeback_jobs;
};

/* --- construction ------------------------------------------------------ */

struct wc_core *wc_core_create(void);
void wc_core_destroy(struct wc_core *core);

/* "s" or "p" (case-insensitive): 0, or -WC_EINVAL. */
int wc_core_parse_mode(struct wc_core *core, const char *arg);
int wc_core_is_pmem(const struct wc_core *core);

/*
 * The table line from the block size on.  On failure returns a negative
 * errno and points *error at the message for ti->error.
 */
int wc_core_parse_args(struct wc_core *core, unsigned int argc, char **argv,
		       const struct wc_dev_info *info, const char **error);

unsigned int wc_core_block_size(const struct wc_core *core);
unsigned long long wc_core_start_sector(const struct wc_core *core);

/*
 * SSD mode: compute the geometry the device allows before the superblock is
 * read.  Fails with "Invalid device size".
 */
int wc_core_ssd_geometry(struct wc_core *core, const char **error);

/*
 * PMEM mode: the DAX mapping of the whole cache area, from start_sector on,
 * and its size in bytes.  The core reads and writes metadata and data there.
 */
void wc_core_set_pmem(struct wc_core *core, void *base, unsigned long long bytes);
void *wc_core_pmem_base(const struct wc_core *core);

/*
 * Look at the superblock (SSD: the first block of the cache area as read by
 * the caller; PMEM: from the mapping).  Sets *need_format when the device is
 * blank (magic and version both zero); run WC_PROG_FORMAT and call again.
 */
int wc_core_check_superblock(struct wc_core *core, const void *first_block,
			     int *need_format, const char **error);

/* Sectors of metadata (superblock and entries, rounded to a block). */
unsigned long long wc_core_metadata_sectors(const struct wc_core *core);
unsigned long long wc_core_n_blocks(const struct wc_core *core);

/*
 * Tools: the layout of a cache area of `bytes` for a block size (the
 * in-tree rule): 0, or -WC_ENOSPC when not one block fits, -WC_EFBIG when
 * it has more blocks than the core addresses, -WC_EINVAL for a bad size.
 */
int wc_core_layout(unsigned long long bytes, unsigned int block_size,
		   unsigned long long *n_blocks, unsigned long long *metadata_bytes);
/* The RAM the core allocates for a cache of that geometry. */
unsigned long long wc_core_ram_bytes(unsigned long long n_blocks,
				     unsigned long long metadata_bytes);

struct wc_superblock_info {
	unsigned int magic;
	unsigned int version;
	unsigned int block_size;
	unsigned long long n_blocks;
	unsigned long long seq_count;	/* the live one after a load */
};

/* The superblock as last read or written (after check_superblock). */
void wc_core_superblock(const struct wc_core *core, struct wc_superblock_info *sb);

/*
 * Tools: cache block i after a load.  0 when it is free; otherwise its
 * origin sector and sequence number, and 2 when it is committed, 1 when
 * not (written since the last commit).
 */
int wc_core_block_state(const struct wc_core *core, struct wc_block b,
			unsigned long long *sector, unsigned long long *seq);

/* --- I/O programs --------------------------------------------------------- */

enum wc_program {
	WC_PROG_FORMAT = 1,	/* write a blank cache (ctr) */
	WC_PROG_LOAD,		/* read all metadata and recover (resume) */
	WC_PROG_COMMIT,		/* commit uncommitted blocks (flush) */
	WC_PROG_RETIRE,		/* free blocks whose writeback completed */
	WC_PROG_DISCARD,	/* drop cached blocks in a range */
};

enum wc_io_kind {
	WC_IO_DONE = 0,		/* the program is finished; result in op->error */
	WC_IO_META_WRITE,	/* write op->buf to the cache; may be async */
	WC_IO_META_WRITE_FUA,	/* write op->buf to the cache with FUA; sync */
	WC_IO_META_READ,	/* read the cache into op->buf; sync */
	WC_IO_WAIT,		/* wait for the async writes of this program */
	WC_IO_WAIT_CACHE_WRITES,/* wait for remapped writes to the cache */
	WC_IO_WAIT_CACHE_READS,	/* wait for remapped reads from the cache */
	WC_IO_FLUSH_CACHE,	/* REQ_PREFLUSH to the cache device */
	WC_IO_FLUSH_ORIGIN,	/* REQ_PREFLUSH to the origin device */
};

struct wc_io_op {
	int kind;
	/* absolute sector on the cache device, and length, for META ops */
	unsigned long long sector;
	unsigned int nr_sectors;
	/* set by the caller before each step: WC_META_BUF_BYTES to use */
	void *buf;
	/* WC_IO_DONE: 0 or negative errno */
	int error;
};

/*
 * Start a program.  Arguments: WC_PROG_DISCARD takes the sector range
 * [arg0, arg1) relative to the target; WC_PROG_LOAD takes the origin's size
 * in sectors (writeback never writes past it); the others take none.
 */
void wc_core_program_start(struct wc_core *core, int program,
			   unsigned long long arg0, unsigned long long arg1);

/*
 * Advance the running program.  `result` is the outcome of the previous
 * operation (0 or negative errno; for WC_IO_WAIT, the first error of the
 * writes it waited for).  Fills *op with the next operation.
 */
void wc_core_program_step(struct wc_core *core, struct wc_io_op *op, int result);

/* --- mapping bios --------------------------------------------------------- */

enum wc_bio_flags {
	WC_BIO_WRITE = 1U << 0,
	WC_BIO_FUA = 1U << 1,
	WC_BIO_PREFLUSH = 1U << 2,
	WC_BIO_DISCARD = 1U << 3,
	WC_BIO_META = 1U << 4,
	/*
	 * The second of the two empty flush bios dm sends per flush in SSD
	 * mode (ti->num_flush_bios = 2; dm_bio_get_target_bio_nr() is 1).
	 * The core relies on getting both: the first commits, the second
	 * flushes the origin for the writes that went around the cache.
	 * PMEM mode takes one flush bio (num_flush_bios = 1).
	 */
	WC_BIO_SECOND_FLUSH = 1U << 5,
	/* a map call after WC_MAP_COPY_PMEM advanced this bio */
	WC_BIO_CONTINUED = 1U << 6,
};

enum wc_map_action {
	WC_MAP_REMAP_ORIGIN = 1,/* send the accepted part to the origin */
	WC_MAP_REMAP_CACHE,	/* send the accepted part to the cache at sector */
	WC_MAP_COMPLETE,	/* end the bio successfully */
	WC_MAP_ERROR,		/* end the bio with -EIO */
	/*
	 * Hand it to the flush thread (a flush or a discard, which wait for
	 * metadata I/O).  SSD mode only: PMEM commits with stores and fences
	 * inside the map call, so the PMEM target has no flush thread.
	 */
	WC_MAP_DEFER,
	WC_MAP_WAIT_FREELIST,	/* sleep until blocks are freed, then map again */
	/*
	 * PMEM: the first accept_sectors of the bio are served by copies to
	 * or from the mapping.  If that is not the whole bio, accept that
	 * part (dm_accept_partial_bio) before anything else: dm cannot split
	 * a bio that was already advanced.  Then copy copy_sectors (one
	 * block for a write, a run of blocks that follow each other in the
	 * mapping for a read), advance the bio and map again with
	 * WC_BIO_CONTINUED, also when nothing is left: the core decides then
	 * whether the write commits.
	 */
	WC_MAP_COPY_PMEM,
};

enum wc_map_result_flags {
	/* count the bio as in flight to the cache until end_io */
	WC_MAPF_TRACK_CACHE_IO = 1U << 0,
	/* wait for writes in flight to the cache before submitting */
	WC_MAPF_WAIT_CACHE_WRITES = 1U << 1,
	/* an origin write that pauses SSD writeback */
	WC_MAPF_ORIGIN_WRITE = 1U << 2,
	/*
	 * a FUA write to the cache: once it completes, run WC_PROG_COMMIT
	 * before completing the bio, so that what FUA promised is committed
	 * (in-tree leaves it uncommitted until the next flush)
	 */
	WC_MAPF_COMMIT_AFTER = 1U << 3,
};

struct wc_bio {
	unsigned long long sector;	/* relative to the target */
	unsigned int nr_sectors;
	unsigned int flags;		/* enum wc_bio_flags */
};

struct wc_map_result {
	int action;			/* enum wc_map_action */
	unsigned int flags;		/* enum wc_map_result_flags */
	unsigned int accept_sectors;	/* sectors accepted; the rest is resubmitted */
	unsigned long long sector;	/* REMAP_*: target sector */
	void *pmem;			/* COPY_PMEM: the block's data */
	unsigned int copy_sectors;	/* COPY_PMEM: how much to copy there */
};

void wc_core_map(struct wc_core *core, const struct wc_bio *bio,
		 unsigned long long now_ms, struct wc_map_result *res);

/*
 * The caller tells the core about things the caller latched (a failed bio
 * to the cache or origin, a media error).
 */
void wc_core_set_error(struct wc_core *core, int error, const char *what);
int wc_core_error(const struct wc_core *core);

/*
 * A cache data write failed (the caller has latched the error): the blocks
 * it wrote that are not committed leave the index, so that a read finds
 * the version before it (a committed copy, or the origin) instead of what
 * the failed write left in the cache block, which may be another sector's
 * old data.  `sector` and `nr_sectors` are the origin range of the write.
 * When the caller could not keep track of which writes failed, it calls
 * wc_core_forget_uncommitted() instead: every uncommitted block leaves.
 */
void wc_core_forget_failed_write(struct wc_core *core, unsigned long long sector,
				 unsigned int nr_sectors);
void wc_core_forget_uncommitted(struct wc_core *core);

/*
 * Things the caller should do after a call into the core: a bitmask that is
 * cleared by reading it.
 */
enum wc_event {
	WC_EV_KICK_WRITEBACK = 1U << 0,	/* queue the writeback work */
	WC_EV_COMMIT_SOON = 1U << 1,	/* queue a commit (autocommit_blocks) */
	WC_EV_ARM_AUTOCOMMIT = 1U << 2,	/* arm the autocommit timer if idle */
	WC_EV_WAKE_FREELIST = 1U << 3,	/* wake the freelist waiters */
};

unsigned int wc_core_take_events(struct wc_core *core);

/* --- writeback ------------------------------------------------------------ */

struct wc_wb_job {
	struct wc_block head;		/* its first block: the job's handle */
	unsigned int nr_blocks;
	unsigned long long cache_sector;	/* SSD: where the run starts */
	unsigned long long origin_sector;
	unsigned int nr_sectors;	/* clipped to the origin's end; 0: skip */
};

enum wc_wb_status {
	WC_WB_IDLE = 0,		/* nothing was planned */
	WC_WB_JOBS,		/* jobs were planned: take them with next_job */
	WC_WB_NEED_COMMIT,	/* run WC_PROG_COMMIT, then plan again */
	WC_WB_WAIT,		/* wait for writeback in flight, then begin again */
	WC_WB_WAIT_CACHE_WRITES,/* wait for remapped cache writes, plan again */
};

/*
 * One writeback pass: begin, then plan until it returns IDLE or JOBS,
 * holding the lock throughout (WC_WB_WAIT drops it: begin again after).
 * `writeback_all` is set while draining (flush message, flush_on_suspend).
 * *requeue asks for another pass later, to give the CPU away.
 */
void wc_core_writeback_begin(struct wc_core *core);
int wc_core_writeback_plan(struct wc_core *core, unsigned long long now_ms,
			   int writeback_all, int *requeue);
/*
 * PMEM mode: a job's blocks, for building the writeback bio from the
 * mapping: the data of block `b`, and the block after `b` in its job.
 */
void *wc_core_block_data(const struct wc_core *core, struct wc_block b);
struct wc_block wc_core_job_next(const struct wc_core *core, struct wc_block b);

/* The next planned job, or 0 when there is none. */
int wc_core_writeback_next_job(struct wc_core *core, struct wc_wb_job *job);
/* Blocks planned but not yet taken by next_job (for the jobs throttle). */
unsigned long long wc_core_writeback_queued(const struct wc_core *core);

/*
 * A job finished (error: 0 or negative errno).  Its blocks are freed by the
 * next WC_PROG_RETIRE, which the caller runs after collecting completions.
 */
void wc_core_writeback_done(struct wc_core *core, struct wc_block head, int error);
unsigned long long wc_core_writeback_blocks(const struct wc_core *core);

/* --- the rest of the target interface ------------------------------------ */

/* Messages that need the caller: */
enum wc_message_action {
	WC_MSG_HANDLED = 0,
	WC_MSG_FLUSH,		/* commit, then write everything back */
	WC_MSG_CLEANER,		/* the caller kicks writeback unless suspended */
};

/* 0 and *action, or -WC_EINVAL (with an error logged for unknown words). */
int wc_core_message(struct wc_core *core, unsigned int argc, char **argv,
		    int *action);

int wc_core_flush_on_suspend(struct wc_core *core);	/* read and clear */
int wc_core_cleaner(const struct wc_core *core);
int wc_core_writeback_pending(const struct wc_core *core);
unsigned int wc_core_pause_ms(const struct wc_core *core);	/* 0: none */
unsigned int wc_core_autocommit_ms(const struct wc_core *core);
long long wc_core_max_age_ms(const struct wc_core *core);	/* -1: none */
unsigned int wc_core_writeback_jobs(const struct wc_core *core); /* 0: unlimited */
int wc_core_writeback_fua(const struct wc_core *core);

/*
 * The status line: these numbers, in this order (in-tree's), separated by
 * single spaces.  The one definition of the layout: the core prints it,
 * the tests and the tools read it by these names.
 */
enum wc_status_field {
	WC_STATUS_ERROR,		/* 1 when the error state is latched */
	WC_STATUS_BLOCKS,
	WC_STATUS_FREE,
	WC_STATUS_WRITEBACK,		/* blocks under writeback */
	WC_STATUS_READS,		/* the stats: blocks, since clear_stats */
	WC_STATUS_READ_HITS,
	WC_STATUS_WRITES,
	WC_STATUS_WRITE_HITS_UNCOMMITTED,
	WC_STATUS_WRITE_HITS_COMMITTED,
	WC_STATUS_WRITES_AROUND,
	WC_STATUS_WRITES_ALLOCATE,
	WC_STATUS_WRITES_BLOCKED_ON_FREELIST,
	WC_STATUS_FLUSHES,
	WC_STATUS_DISCARDS,
	WC_STATUS_NR_FIELDS
};

/* The status line's numbers, WC_STATUS_NR_FIELDS of them. */
void wc_core_status_fields(const struct wc_core *core, unsigned long long *fields);

/* The status line, and the table line (device names given). */
void wc_core_status(const struct wc_core *core, char *buf, unsigned int len);
void wc_core_table(const struct wc_core *core, const char *origin_name,
		   const char *cache_name, char *buf, unsigned int len);

/* Checks the core's containers against each other (tests): 1 when sound. */
int wc_core_validate(const struct wc_core *core);

#ifdef __cplusplus
}
#endif

#endif /* WC_CORE_H */
