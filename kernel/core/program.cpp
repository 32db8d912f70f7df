// SPDX-License-Identifier: GPL-2.0
// The I/O programs' runner: every persistence sequence is a series of
// operations the caller executes.  The caller holds its lock from
// program_start() to WC_IO_DONE, so no bio is mapped in between; the
// invariants of meta_ssd.h and writeback.h rest on that.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

void Cache::program_start(int program, u64 arg0, u64 arg1)
{
	prog_ = Program();
	prog_.kind = program;
	prog_.arg0 = arg0;
	prog_.arg1 = arg1;
}

void Cache::program_step(wc_io_op *op, int result)
{
	op->error = 0;
	(this->*mode_->program_step)(op, result);
}

void Cache::step_ssd(wc_io_op *op, int result)
{
	switch (prog_.kind) {
	case WC_PROG_FORMAT:
		step_format(op, result);
		break;
	case WC_PROG_LOAD:
		step_load(op, result);
		break;
	case WC_PROG_COMMIT:
		step_commit(op, result);
		break;
	case WC_PROG_RETIRE:
		step_retire(op, result);
		break;
	case WC_PROG_DISCARD:
		step_discard(op, result);
		break;
	default:
		finish(op, -WC_EINVAL);
		break;
	}
}

void Cache::finish(wc_io_op *op, int error)
{
	op->kind = WC_IO_DONE;
	op->error = error;
	prog_.kind = 0;
}

// The last phase of a program: the metadata sync, then the end.
void Cache::sync_then_finish(wc_io_op *op, int result)
{
	switch (sync_step(op, result)) {
	case Sync::kRunning:
		return;
	case Sync::kDone:
		return finish(op, 0);
	case Sync::kFailed:
		return finish(op, error_ ? error_ : -WC_EIO);
	}
}

} // namespace wc
