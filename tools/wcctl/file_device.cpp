// SPDX-License-Identifier: GPL-2.0
#include "file_device.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wcctl {

FileDevice::~FileDevice()
{
	if (fd_ >= 0)
		close(fd_);
}

bool FileDevice::open(const std::string &path, Access access, std::string *error)
{
	struct stat st;
	int flags = (access == Access::kReadWrite ? O_RDWR : O_RDONLY) | O_CLOEXEC;

	path_ = path;
	access_ = access;
	if (stat(path.c_str(), &st)) {
		*error = path + ": " + strerror(errno);
		return false;
	}
	block_device_ = S_ISBLK(st.st_mode);
	if (!block_device_ && !S_ISREG(st.st_mode)) {
		*error = path + ": not a block device or a regular file";
		return false;
	}
	if (block_device_)
		flags |= O_EXCL;
	fd_ = ::open(path.c_str(), flags);
	if (fd_ < 0) {
		if (errno == EBUSY)
			*error = path + ": in use (mounted, mapped by device-mapper, or held by another device)";
		else
			*error = path + ": " + strerror(errno);
		return false;
	}
	if (block_device_) {
		if (ioctl(fd_, BLKGETSIZE64, &bytes_)) {
			*error = path + ": cannot get its size: " + strerror(errno);
			return false;
		}
	} else {
		bytes_ = uint64_t(st.st_size);
	}
	sectors_ = bytes_ / kSector;
	return true;
}

int FileDevice::pread_all(void *buf, uint64_t len, uint64_t offset) const
{
	auto *p = static_cast<uint8_t *>(buf);

	while (len) {
		ssize_t n = ::pread(fd_, p, len, off_t(offset));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	// past the end
		p += n;
		len -= uint64_t(n);
		offset += uint64_t(n);
	}
	return 0;
}

int FileDevice::pwrite_all(const void *buf, uint64_t len, uint64_t offset)
{
	auto *p = static_cast<const uint8_t *>(buf);

	if (access_ == Access::kReadOnly) {
		dropped_writes_++;
		return 0;
	}
	while (len) {
		ssize_t n = ::pwrite(fd_, p, len, off_t(offset));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= uint64_t(n);
		offset += uint64_t(n);
	}
	return 0;
}

int FileDevice::read(uint64_t sector, uint8_t *data, uint32_t nr) const
{
	if (sector + nr > sectors_)
		return -EIO;
	return pread_all(data, nr * kSector, sector * kSector);
}

int FileDevice::write(uint64_t sector, const uint8_t *data, uint32_t nr, bool fua)
{
	int r;

	if (sector + nr > sectors_)
		return -EIO;
	r = pwrite_all(data, nr * kSector, sector * kSector);
	if (!r && fua)
		r = flush();
	return r;
}

int FileDevice::flush()
{
	if (access_ == Access::kReadOnly)
		return 0;
	return fdatasync(fd_) ? -errno : 0;
}

} // namespace wcctl
