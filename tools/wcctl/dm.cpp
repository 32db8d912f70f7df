// SPDX-License-Identifier: GPL-2.0
#include "dm.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <libdevmapper.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace wcctl::dm {

namespace {

bool g_verbose = false;

class Task {
public:
	explicit Task(int type) : t_(dm_task_create(type)) {}
	~Task()
	{
		if (t_)
			dm_task_destroy(t_);
	}
	Task(const Task &) = delete;
	Task &operator=(const Task &) = delete;
	dm_task *get() const { return t_; }
	explicit operator bool() const { return t_ != nullptr; }

private:
	dm_task *t_;
};

const char *op_name(int type)
{
	switch (type) {
	case DM_DEVICE_CREATE: return "create";
	case DM_DEVICE_RELOAD: return "reload";
	case DM_DEVICE_REMOVE: return "remove";
	case DM_DEVICE_SUSPEND: return "suspend";
	case DM_DEVICE_RESUME: return "resume";
	case DM_DEVICE_CLEAR: return "clear";
	case DM_DEVICE_TARGET_MSG: return "message";
	case DM_DEVICE_STATUS: return "status";
	case DM_DEVICE_TABLE: return "table";
	case DM_DEVICE_INFO: return "info";
	case DM_DEVICE_LIST: return "list";
	default: return "ioctl";
	}
}

std::string failure(int type, const std::string &name)
{
	std::string s = std::string(op_name(type)) + " of " + name + " failed";
	int e = errno;

	if (e)
		s += std::string(": ") + strerror(e);
	return s;
}

// Runs a task that changes nodes, waiting for udev when it runs, and
// making the nodes itself otherwise.
bool run_with_cookie(Task &t, int type, const std::string &name, std::string *error)
{
	uint32_t cookie = 0;
	uint16_t flags = 0;

	if (g_verbose)
		fprintf(stderr, "wcctl: dm %s %s\n", op_name(type), name.c_str());
	if (!dm_task_set_cookie(t.get(), &cookie, flags)) {
		*error = failure(type, name);
		return false;
	}
	errno = 0;
	bool ok = dm_task_run(t.get());
	int e = errno;

	dm_udev_wait(cookie);
	dm_mknodes(type == DM_DEVICE_REMOVE ? nullptr : name.c_str());
	if (!ok) {
		errno = e;
		*error = failure(type, name);
	}
	return ok;
}

bool run(Task &t, int type, const std::string &name, std::string *error)
{
	if (g_verbose && type != DM_DEVICE_STATUS && type != DM_DEVICE_INFO &&
	    type != DM_DEVICE_TABLE && type != DM_DEVICE_LIST)
		fprintf(stderr, "wcctl: dm %s %s\n", op_name(type), name.c_str());
	errno = 0;
	if (!dm_task_run(t.get())) {
		*error = failure(type, name);
		return false;
	}
	return true;
}

bool named(Task &t, int type, const std::string &name, std::string *error)
{
	if (!t || !dm_task_set_name(t.get(), name.c_str())) {
		*error = failure(type, name);
		return false;
	}
	return true;
}

bool targets(int type, const std::string &name, std::vector<Target> *out, std::string *error)
{
	Task t(type);
	void *next = nullptr;

	if (!named(t, type, name, error) || !run(t, type, name, error))
		return false;
	dm_info di;
	if (!dm_task_get_info(t.get(), &di) || !di.exists) {
		*error = "no device-mapper device named " + name;
		return false;
	}
	out->clear();
	do {
		uint64_t start, length;
		char *type_name = nullptr, *params = nullptr;

		next = dm_get_next_target(t.get(), next, &start, &length, &type_name, &params);
		if (type_name)
			out->push_back({start, length, type_name, params ? params : ""});
	} while (next);
	return true;
}

bool with_table(int type, const std::string &name, const Target &tg, std::string *error)
{
	Task t(type);

	if (!named(t, type, name, error))
		return false;
	if (!dm_task_add_target(t.get(), tg.start, tg.length, tg.type.c_str(), tg.params.c_str())) {
		*error = failure(type, name);
		return false;
	}
	if (type == DM_DEVICE_CREATE)
		return run_with_cookie(t, type, name, error);
	return run(t, type, name, error);
}

} // namespace

void configure(bool udev_sync, bool verbose)
{
	g_verbose = verbose;
	if (!udev_sync)
		dm_udev_set_sync_support(0);
}

bool list(std::vector<Device> *out, std::string *error)
{
	Task t(DM_DEVICE_LIST);

	if (!t || !run(t, DM_DEVICE_LIST, "devices", error))
		return false;
	dm_names *n = dm_task_get_names(t.get());

	out->clear();
	if (!n || !n->dev)
		return true;
	for (;;) {
		out->push_back({n->name, major(n->dev), minor(n->dev)});
		if (!n->next)
			break;
		n = reinterpret_cast<dm_names *>(reinterpret_cast<char *>(n) + n->next);
	}
	return true;
}

bool info(const std::string &name, Info *out, std::string *error)
{
	Task t(DM_DEVICE_INFO);
	dm_info di;

	if (!named(t, DM_DEVICE_INFO, name, error) || !run(t, DM_DEVICE_INFO, name, error))
		return false;
	if (!dm_task_get_info(t.get(), &di)) {
		*error = failure(DM_DEVICE_INFO, name);
		return false;
	}
	*out = Info();
	out->exists = di.exists;
	out->suspended = di.suspended;
	out->live_table = di.live_table;
	out->inactive_table = di.inactive_table;
	out->open_count = di.open_count;
	out->major = di.major;
	out->minor = di.minor;
	return true;
}

bool table(const std::string &name, std::vector<Target> *out, std::string *error)
{
	return targets(DM_DEVICE_TABLE, name, out, error);
}

bool status(const std::string &name, std::vector<Target> *out, std::string *error)
{
	return targets(DM_DEVICE_STATUS, name, out, error);
}

bool message(const std::string &name, const std::string &msg, std::string *error)
{
	Task t(DM_DEVICE_TARGET_MSG);

	if (!named(t, DM_DEVICE_TARGET_MSG, name, error) || !dm_task_set_sector(t.get(), 0) ||
	    !dm_task_set_message(t.get(), msg.c_str())) {
		*error = failure(DM_DEVICE_TARGET_MSG, name);
		return false;
	}
	if (g_verbose)
		fprintf(stderr, "wcctl: dm message %s 0 %s\n", name.c_str(), msg.c_str());
	return run(t, DM_DEVICE_TARGET_MSG, name, error);
}

bool create(const std::string &name, const Target &t, std::string *error)
{
	return with_table(DM_DEVICE_CREATE, name, t, error);
}

bool reload(const std::string &name, const Target &t, std::string *error)
{
	return with_table(DM_DEVICE_RELOAD, name, t, error);
}

bool clear(const std::string &name, std::string *error)
{
	Task t(DM_DEVICE_CLEAR);

	return named(t, DM_DEVICE_CLEAR, name, error) && run(t, DM_DEVICE_CLEAR, name, error);
}

bool suspend(const std::string &name, bool flush, std::string *error)
{
	Task t(DM_DEVICE_SUSPEND);

	if (!named(t, DM_DEVICE_SUSPEND, name, error))
		return false;
	if (!flush)
		dm_task_no_flush(t.get());
	return run(t, DM_DEVICE_SUSPEND, name, error);
}

bool resume(const std::string &name, std::string *error)
{
	Task t(DM_DEVICE_RESUME);

	return named(t, DM_DEVICE_RESUME, name, error) &&
	       run_with_cookie(t, DM_DEVICE_RESUME, name, error);
}

bool remove(const std::string &name, std::string *error)
{
	for (int attempt = 0;; attempt++) {
		Task t(DM_DEVICE_REMOVE);

		if (!named(t, DM_DEVICE_REMOVE, name, error))
			return false;
		// A device just closed can still be busy for a moment.
		if (attempt < 10)
			dm_task_retry_remove(t.get());
		if (run_with_cookie(t, DM_DEVICE_REMOVE, name, error))
			return true;
		if (errno != EBUSY || attempt >= 10)
			return false;
		usleep(200000);
	}
}

std::string device_number(const std::string &path)
{
	struct stat st;

	if (stat(path.c_str(), &st) || !S_ISBLK(st.st_mode))
		return path;
	return std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
}

std::string device_path(const std::string &mm)
{
	std::string base = "/sys/dev/block/" + mm;
	std::string line;
	std::ifstream dmname(base + "/dm/name");

	if (dmname && std::getline(dmname, line) && !line.empty())
		return "/dev/mapper/" + line;
	std::ifstream uevent(base + "/uevent");
	while (uevent && std::getline(uevent, line))
		if (line.rfind("DEVNAME=", 0) == 0)
			return "/dev/" + line.substr(8);
	return mm;
}

std::string last_kernel_error()
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	std::string last;
	char buf[8192];

	if (fd < 0)
		return "";
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		if (n < 0 && errno == EPIPE)
			continue;	// overwritten records: go on
		if (n <= 0)
			break;
		buf[n] = 0;
		const char *msg = strchr(buf, ';');
		if (!msg)
			continue;
		std::string line(msg + 1);
		if (auto nl = line.find('\n'); nl != std::string::npos)
			line.resize(nl);
		if (line.find("writecache") != std::string::npos &&
		    line.find("device-mapper:") != std::string::npos)
			last = line;
	}
	close(fd);
	return last;
}

} // namespace wcctl::dm
