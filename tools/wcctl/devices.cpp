// SPDX-License-Identifier: GPL-2.0
#include "devices.h"

#include <blkid/blkid.h>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

namespace wcctl {

namespace {

class Fd {
public:
	explicit Fd(int fd) : fd_(fd) {}
	~Fd()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	int get() const { return fd_; }

private:
	int fd_;
};

std::string sysfs_dir(dev_t rdev)
{
	return "/sys/dev/block/" + std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
}

std::string read_line(const std::string &path)
{
	std::ifstream f(path);
	std::string s;

	std::getline(f, s);
	return s;
}

std::string open_error(const std::string &path)
{
	if (errno == EBUSY)
		return path + ": in use (mounted, mapped by device-mapper, or held by another device)";
	return path + ": " + strerror(errno);
}

} // namespace

bool probe_block_device(const std::string &path, BlockInfo *out, std::string *error)
{
	struct stat st;

	*out = BlockInfo();
	out->path = path;
	if (stat(path.c_str(), &st)) {
		*error = path + ": " + strerror(errno);
		return false;
	}
	if (!S_ISBLK(st.st_mode)) {
		*error = path + ": not a block device";
		return false;
	}
	Fd fd(open(path.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC));
	if (fd.get() < 0) {
		*error = open_error(path);
		return false;
	}
	int lbs = 0;
	if (ioctl(fd.get(), BLKGETSIZE64, &out->bytes) || ioctl(fd.get(), BLKSSZGET, &lbs)) {
		*error = path + ": cannot read its geometry: " + strerror(errno);
		return false;
	}
	out->logical_block_size = unsigned(lbs);

	std::string dir = sysfs_dir(st.st_rdev);
	// A partition has no queue/ of its own: its disk's is one level up.
	std::string dax = read_line(dir + "/queue/dax");
	if (dax.empty())
		dax = read_line(dir + "/../queue/dax");
	out->dax = dax == "1";
	// virtio-pmem is DAX-capable but flushes through the host: the
	// kernel's dax_synchronous() is false for it.
	char real[PATH_MAX];
	if (out->dax && realpath((dir + "/device").c_str(), real))
		out->async_dax = strstr(real, "virtio") != nullptr;
	return true;
}

std::string foreign_signature(const std::string &path, uint64_t offset, std::string *error)
{
	Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
	std::string found;

	if (fd.get() < 0) {
		*error = open_error(path);
		return "";
	}
	blkid_probe pr = blkid_new_probe();
	if (!pr || blkid_probe_set_device(pr, fd.get(), blkid_loff_t(offset), 0)) {
		*error = path + ": cannot probe for signatures";
		if (pr)
			blkid_free_probe(pr);
		return "";
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);

	int r = blkid_do_safeprobe(pr);
	const char *v = nullptr;

	if (r == 0) {
		if (!blkid_probe_lookup_value(pr, "TYPE", &v, nullptr) && v)
			found = v;
		else if (!blkid_probe_lookup_value(pr, "PTTYPE", &v, nullptr) && v)
			found = std::string(v) + " partition table";
		else
			found = "unknown signature";
	} else if (r == -2) {
		found = "several conflicting signatures";
	} else if (r < 0) {
		*error = path + ": probing for signatures failed";
	}
	blkid_free_probe(pr);
	return found;
}

bool wipe_signatures(const std::string &path, uint64_t offset, std::string *error)
{
	Fd fd(open(path.c_str(), O_RDWR | O_EXCL | O_CLOEXEC));

	if (fd.get() < 0) {
		*error = open_error(path);
		return false;
	}
	blkid_probe pr = blkid_new_probe();
	if (!pr || blkid_probe_set_device(pr, fd.get(), blkid_loff_t(offset), 0)) {
		*error = path + ": cannot probe for signatures";
		if (pr)
			blkid_free_probe(pr);
		return false;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC | BLKID_PARTS_FORCE_GPT);
	bool ok = true;
	while (blkid_do_probe(pr) == 0)
		if (blkid_do_wipe(pr, 0)) {
			*error = path + ": cannot erase a signature: " + strerror(errno);
			ok = false;
			break;
		}
	blkid_free_probe(pr);
	if (ok && fsync(fd.get())) {
		*error = path + ": " + strerror(errno);
		ok = false;
	}
	return ok;
}

bool zero_range(const std::string &path, uint64_t offset, uint64_t bytes, std::string *error)
{
	Fd fd(open(path.c_str(), O_WRONLY | O_EXCL | O_CLOEXEC));
	std::vector<char> zeros(bytes);

	if (fd.get() < 0) {
		*error = open_error(path);
		return false;
	}
	if (pwrite(fd.get(), zeros.data(), bytes, off_t(offset)) != ssize_t(bytes) ||
	    fsync(fd.get())) {
		*error = path + ": cannot write: " + strerror(errno);
		return false;
	}
	return true;
}

} // namespace wcctl
