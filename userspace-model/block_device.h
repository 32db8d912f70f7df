// SPDX-License-Identifier: GPL-2.0
// What the model needs of a block device: the simulated one of the tests
// (sim_device.h) or a real device or image file (the tools).
//
// Sectors are 512 bytes.  Errors are negative errno values.  A write with
// fua is durable when it returns; other writes are durable after flush().
#pragma once

#include <cstdint>

namespace wc::model {

class BlockDevice {
public:
	virtual ~BlockDevice() = default;
	virtual uint64_t sectors() const = 0;
	virtual int write(uint64_t sector, const uint8_t *data, uint32_t nr_sectors,
			  bool fua) = 0;
	virtual int read(uint64_t sector, uint8_t *data, uint32_t nr_sectors) const = 0;
	virtual int flush() = 0;
};

} // namespace wc::model
