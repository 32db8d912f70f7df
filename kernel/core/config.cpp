// SPDX-License-Identifier: GPL-2.0
#include "config.h"

namespace wc {
namespace {

constexpr const char *kBadArguments = "Bad arguments";
constexpr const char *kInvalidOptional = "Invalid optional argument";

// dm_shift_arg() over the remaining words.
class Args {
public:
	Args(u32 argc, char **argv) : argc_(argc), argv_(argv) {}
	const char *shift()
	{
		if (!argc_)
			return nullptr;
		argc_--;
		return *argv_++;
	}
	u32 left() const { return argc_; }

private:
	u32 argc_;
	char **argv_;
};

} // namespace

int Config::parse_mode(const char *arg)
{
	if (arg && text::equal_nocase(arg, "s"))
		pmem = false;
	else if (arg && text::equal_nocase(arg, "p"))
		pmem = true;
	else
		return -WC_EINVAL;
	writeback_fua = pmem;
	pause_ms = pmem ? 0 : kPauseMsDefault;
	return 0;
}

int Config::parse_args(u32 argc, char **argv, const wc_dev_info &info,
		       const char **error)
{
	Args as(argc, argv);
	const char *s;
	u32 opt_params;

	s = as.shift();
	if (!s) {
		*error = kBadArguments;
		return -WC_EINVAL;
	}
	if (!text::scan_u32(s, &block_size) || block_size < 512 ||
	    block_size > info.page_size || !is_power_of_two(block_size)) {
		*error = "Invalid block size";
		return -WC_EINVAL;
	}
	if (block_size < info.origin_logical_block_size ||
	    block_size < info.cache_logical_block_size) {
		*error = "Block size is smaller than device logical block size";
		return -WC_EINVAL;
	}
	block_shift = log2_exact(block_size);
	writeback_jobs = info.default_writeback_jobs;
	autocommit_blocks = pmem ? kAutocommitBlocksPmem : kAutocommitBlocksSsd;

	// dm_read_arg_group(): the count, then that many words must follow.
	s = as.shift();
	if (!text::scan_u32(s, &opt_params) || opt_params > kMaxFeatureArgs ||
	    as.left() < opt_params) {
		*error = "Invalid number of feature args";
		return -WC_EINVAL;
	}

	while (opt_params) {
		s = as.shift();
		opt_params--;
		bool has_value = opt_params >= 1;
		bool ok = true;

		if (text::equal_nocase(s, "start_sector") && has_value) {
			s = as.shift();
			opt_params--;
			ok = text::scan_u64(s, &start_sector);
			start_sector_set = true;
			if (ok && start_sector >= info.cache_bytes >> kSectorShift)
				ok = false;
		} else if (text::equal_nocase(s, "high_watermark") && has_value) {
			s = as.shift();
			opt_params--;
			ok = text::scan_i32(s, &high_wm) && high_wm >= 0 &&
			     high_wm <= 100;
			high_wm_set = true;
		} else if (text::equal_nocase(s, "low_watermark") && has_value) {
			s = as.shift();
			opt_params--;
			ok = text::scan_i32(s, &low_wm) && low_wm >= 0 &&
			     low_wm <= 100;
			low_wm_set = true;
		} else if (text::equal_nocase(s, "writeback_jobs") && has_value) {
			s = as.shift();
			opt_params--;
			ok = text::scan_u32(s, &writeback_jobs);
			writeback_jobs_set = true;
		} else if (text::equal_nocase(s, "autocommit_blocks") && has_value) {
			s = as.shift();
			opt_params--;
			ok = text::scan_u32(s, &autocommit_blocks);
			autocommit_blocks_set = true;
		} else if (text::equal_nocase(s, "autocommit_time") && has_value) {
			u32 ms;

			s = as.shift();
			opt_params--;
			ok = text::scan_u32(s, &ms) && ms <= kMaxAutocommitMs;
			if (ok) {
				autocommit_ms = ms;
				autocommit_time_set = true;
			}
		} else if (text::equal_nocase(s, "max_age") && has_value) {
			u32 ms;

			s = as.shift();
			opt_params--;
			ok = text::scan_u32(s, &ms) && ms <= kMaxAgeMsLimit;
			if (ok) {
				max_age_ms = ms;
				max_age_set = true;
			}
		} else if (text::equal_nocase(s, "cleaner")) {
			cleaner_set = true;
			cleaner = true;
		} else if (text::equal_nocase(s, "fua") ||
			   text::equal_nocase(s, "nofua")) {
			ok = pmem;
			if (ok) {
				writeback_fua = text::equal_nocase(s, "fua");
				writeback_fua_set = true;
			}
		} else if (text::equal_nocase(s, "metadata_only")) {
			metadata_only = true;
		} else if (text::equal_nocase(s, "pause_writeback") && has_value) {
			u32 ms;

			if (pmem) {
				ok = false;
			} else {
				s = as.shift();
				opt_params--;
				ok = text::scan_u32(s, &ms) && ms <= kMaxPauseMs;
				if (ok) {
					pause_ms = ms;
					pause_set = true;
				}
			}
		} else {
			ok = false;
		}
		if (!ok) {
			*error = kInvalidOptional;
			return -WC_EINVAL;
		}
	}

	if (high_wm < low_wm) {
		*error = "High watermark must be greater than or equal to low watermark";
		return -WC_EINVAL;
	}
	return 0;
}

void Config::format_table(text::Emitter &out, const char *origin,
			  const char *cache) const
{
	u32 extra = 0;

	out.chr(pmem ? 'p' : 's').chr(' ').str(origin).chr(' ').str(cache);
	out.chr(' ').dec(block_size).chr(' ');

	extra += start_sector_set ? 2 : 0;
	extra += high_wm_set ? 2 : 0;
	extra += low_wm_set ? 2 : 0;
	extra += writeback_jobs_set ? 2 : 0;
	extra += autocommit_blocks_set ? 2 : 0;
	extra += autocommit_time_set ? 2 : 0;
	extra += max_age_set ? 2 : 0;
	extra += cleaner_set ? 1 : 0;
	extra += writeback_fua_set ? 1 : 0;
	extra += metadata_only ? 1 : 0;
	extra += pause_set ? 2 : 0;
	out.dec(extra);

	if (start_sector_set)
		out.str(" start_sector ").dec(start_sector);
	if (high_wm_set)
		out.str(" high_watermark ").dec(u32(high_wm));
	if (low_wm_set)
		out.str(" low_watermark ").dec(u32(low_wm));
	if (writeback_jobs_set)
		out.str(" writeback_jobs ").dec(writeback_jobs);
	if (autocommit_blocks_set)
		out.str(" autocommit_blocks ").dec(autocommit_blocks);
	if (autocommit_time_set)
		out.str(" autocommit_time ").dec(autocommit_ms);
	if (max_age_set)
		out.str(" max_age ").dec(max_age_ms);
	if (cleaner_set)
		out.str(" cleaner");
	if (writeback_fua_set)
		out.str(writeback_fua ? " fua" : " nofua");
	if (metadata_only)
		out.str(" metadata_only");
	if (pause_set)
		out.str(" pause_writeback ").dec(pause_ms);
}

} // namespace wc
