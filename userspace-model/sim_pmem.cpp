// SPDX-License-Identifier: GPL-2.0
#include "sim_pmem.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <libpmem2.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace wc::model {

SimPmem *SimPmem::active = nullptr;

namespace {

[[noreturn]] void pmem2_fail(const char *what)
{
	fprintf(stderr, "SimPmem: %s: %s\n", what, pmem2_errormsg());
	abort();
}

} // namespace

SimPmem::SimPmem(uint64_t bytes, const std::string &path)
	: size_(bytes), durable_(bytes)
{
	if (path.empty()) {
		anonymous_.resize(bytes);
		current_ = anonymous_.data();
	} else {
		fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd_ < 0 || ftruncate(fd_, off_t(bytes)))
			pmem2_fail(path.c_str());
		if (pmem2_config_new(&config_) ||
		    pmem2_config_set_required_store_granularity(config_,
								PMEM2_GRANULARITY_PAGE) ||
		    pmem2_source_from_fd(&source_, fd_) ||
		    pmem2_map_new(&map_, config_, source_))
			pmem2_fail("mapping");
		current_ = static_cast<uint8_t *>(pmem2_map_get_address(map_));
		memcpy_fn_ = reinterpret_cast<void *>(pmem2_get_memcpy_fn(map_));
		drain_fn_ = reinterpret_cast<void *>(pmem2_get_drain_fn(map_));
	}
	active = this;
}

SimPmem::SimPmem(uint64_t bytes, Untracked) : size_(bytes), tracked_(false)
{
	void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("SimPmem: mmap");
		abort();
	}
	current_ = static_cast<uint8_t *>(p);
	active = this;
}

SimPmem::~SimPmem()
{
	if (!tracked_)
		munmap(current_, size_);
	if (map_)
		pmem2_map_delete(&map_);
	if (source_)
		pmem2_source_delete(&source_);
	if (config_)
		pmem2_config_delete(&config_);
	if (fd_ >= 0)
		close(fd_);
	if (active == this)
		active = nullptr;
}

bool SimPmem::contains(const void *p) const
{
	auto *b = static_cast<const uint8_t *>(p);
	return b >= current_ && b < current_ + size_;
}

bool SimPmem::poisoned(const void *p, uint64_t len) const
{
	if (!contains(p))
		return false;
	uint64_t off = static_cast<const uint8_t *>(p) - current_;

	for (auto &[start, n] : poison_)
		if (off < start + n && start < off + len)
			return true;
	return false;
}

void SimPmem::tick()
{
	ops++;
	if (before_op)
		before_op();
}

void SimPmem::store(void *dst, const void *src, uint64_t len)
{
	tick();
	if (!tracked_) {
		memcpy(dst, src, len);
		return;
	}
	uint64_t off = static_cast<uint8_t *>(dst) - current_;

	if (memcpy_fn_)
		reinterpret_cast<pmem2_memcpy_fn>(memcpy_fn_)(dst, src, len,
							      PMEM2_F_MEM_NODRAIN);
	else
		memcpy(dst, src, len);
	for (uint64_t w = off / 8; w * 8 < off + len; w++) {
		uint64_t value;

		memcpy(&value, &current_[w * 8], 8);
		pending_.push_back({w, value});
	}
}

void SimPmem::fence()
{
	tick();
	if (drain_fn_)
		reinterpret_cast<pmem2_drain_fn>(drain_fn_)();
	for (const Store &st : pending_)
		memcpy(&durable_[st.word * 8], &current_[st.word * 8], 8);
	pending_.clear();
}

std::vector<uint8_t> SimPmem::power_loss_image(std::mt19937_64 &rng) const
{
	return image_keeping([&](size_t) { return rng() & 1; });
}

std::vector<uint8_t> SimPmem::image_keeping(const std::function<bool(size_t)> &keep) const
{
	if (!tracked_)
		abort();	// nothing is known of what is durable
	std::vector<uint8_t> image = durable_;

	for (size_t i = 0; i < pending_.size(); i++)
		if (keep(i))
			memcpy(&image[pending_[i].word * 8], &pending_[i].value, 8);
	return image;
}

void SimPmem::load_image(const std::vector<uint8_t> &image)
{
	memcpy(current_, image.data(), size_);
	if (!tracked_)
		return;
	durable_ = image;
	pending_.clear();
}

} // namespace wc::model
