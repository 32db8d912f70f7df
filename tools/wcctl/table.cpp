// SPDX-License-Identifier: GPL-2.0
#include "table.h"

#include <cstring>
#include <sstream>

namespace wcctl {

namespace {

const std::pair<const char *, int> kOptions[] = {
	{"start_sector", 1}, {"high_watermark", 1}, {"low_watermark", 1},
	{"writeback_jobs", 1}, {"autocommit_blocks", 1}, {"autocommit_time", 1},
	{"max_age", 1}, {"cleaner", 0}, {"fua", 0}, {"nofua", 0},
	{"metadata_only", 0}, {"pause_writeback", 1},
};

std::vector<std::string> words(const std::string &s)
{
	std::istringstream in(s);
	std::vector<std::string> w;
	std::string x;

	while (in >> x)
		w.push_back(x);
	return w;
}

bool all_digits(const std::string &s)
{
	return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

int option_arity(const std::string &key)
{
	for (auto &[name, arity] : kOptions)
		if (key == name)
			return arity;
	return -1;
}

const std::vector<std::string> &option_names()
{
	static const std::vector<std::string> names = [] {
		std::vector<std::string> n;
		for (auto &[name, arity] : kOptions)
			n.push_back(name);
		return n;
	}();
	return names;
}

std::string WcTable::params() const
{
	std::string s = mode + " " + origin + " " + cache + " " + std::to_string(block_size);
	unsigned n = 0;

	for (auto &o : options)
		n += o.value ? 2 : 1;
	s += " " + std::to_string(n);
	for (auto &o : options) {
		s += " " + o.key;
		if (o.value)
			s += " " + *o.value;
	}
	return s;
}

bool WcTable::parse(const std::string &params, WcTable *out, std::string *error)
{
	auto w = words(params);

	if (w.size() < 5 || !all_digits(w[3]) || !all_digits(w[4])) {
		*error = "not a writecache table: " + params;
		return false;
	}
	*out = WcTable();
	out->mode = w[0];
	out->origin = w[1];
	out->cache = w[2];
	out->block_size = unsigned(std::stoul(w[3]));
	size_t n = std::stoul(w[4]), i = 5;
	if (w.size() != 5 + n) {
		*error = "not a writecache table: " + params;
		return false;
	}
	while (i < w.size()) {
		int arity = option_arity(w[i]);

		if (arity < 0 || i + size_t(arity) >= w.size()) {
			*error = "unknown optional argument '" + w[i] + "' in: " + params;
			return false;
		}
		Option o{w[i], std::nullopt};
		if (arity)
			o.value = w[i + 1];
		out->options.push_back(o);
		i += 1 + size_t(arity);
	}
	return true;
}

const Option *WcTable::find(const std::string &key) const
{
	for (auto &o : options)
		if (o.key == key)
			return &o;
	return nullptr;
}

bool apply_option(std::vector<Option> *options, const std::string &word, std::string *error)
{
	auto eq = word.find('=');
	std::string key = word.substr(0, eq);
	std::optional<std::string> value;
	int arity = option_arity(key);

	if (eq != std::string::npos)
		value = word.substr(eq + 1);
	if (arity < 0) {
		*error = "unknown table option '" + key + "' (one of:";
		for (auto &n : option_names())
			*error += " " + n;
		*error += ")";
		return false;
	}
	bool remove = false;
	if (arity == 0) {
		// FLAG, FLAG=on|off
		if (value && (*value == "off" || *value == "0" || *value == "no" || *value == "false"))
			remove = true;
		else if (value && !(*value == "on" || *value == "1" || *value == "yes" ||
				    *value == "true")) {
			*error = "'" + key + "' is a flag: give '" + key + "' or '" + key + "=off'";
			return false;
		}
		value.reset();
	} else if (!value) {
		*error = "'" + key + "' needs a value: " + key + "=VALUE (" + key + "= for the default)";
		return false;
	} else if (value->empty()) {
		remove = true;
	}
	auto drop = [&](const std::string &k) {
		std::erase_if(*options, [&](const Option &o) { return o.key == k; });
	};
	drop(key);
	// fua and nofua are one setting.
	if (key == "fua")
		drop("nofua");
	if (key == "nofua")
		drop("fua");
	if (!remove)
		options->push_back({key, value});
	return true;
}

bool WcStatus::parse(const std::string &params, WcStatus *out, std::string *error)
{
	auto w = words(params);

	if (w.size() != kStatusFields.size()) {
		*error = "not a writecache status line: " + params;
		return false;
	}
	for (size_t i = 0; i < w.size(); i++) {
		if (!all_digits(w[i])) {
			*error = "not a writecache status line: " + params;
			return false;
		}
		out->field[i] = std::stoull(w[i]);
	}
	return true;
}

} // namespace wcctl
