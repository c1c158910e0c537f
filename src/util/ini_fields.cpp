#include "fieldgate/util/ini_fields.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "fieldgate/util/units.hpp"

namespace fieldgate::util {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = kKiB * 1024;

std::string format_size(std::uint64_t bytes) {
    if (bytes >= 1ULL << 40 && bytes % (1ULL << 40) == 0) return std::to_string(bytes >> 40) + "TiB";
    if (bytes >= 1ULL << 30 && bytes % (1ULL << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
    if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + "MiB";
    if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + "KiB";
    return std::to_string(bytes);
}

// Names from the file as they are when plain, quoted when they hold blanks or junk.
std::string shown(std::string_view name) {
    const bool plain =
        name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f; });
    return plain ? std::string(name) : quote(name);
}

std::string prefix(const IniSection& s, int line, std::string_view key) {
    std::string out = s.file + ":" + std::to_string(line) + ": [" + shown(s.name) + "]";
    if (!key.empty()) out += " " + shown(key);
    return out + ": ";
}

}  // namespace

void Report::error(const IniSection& section, int line, std::string_view key, std::string_view what) {
    errors_.push_back(prefix(section, line, key) + std::string(what));
}

void Report::warning(const IniSection& section, int line, std::string_view key, std::string_view what) {
    warnings_.push_back(prefix(section, line, key) + std::string(what));
}

void Report::unknown_section(const IniSection& section, std::string_view accepted) {
    error(section, section.line, "", "unknown section; accepted: " + std::string(accepted));
}

bool SectionNames::add(Report& report, const IniSection& section, std::string_view once) {
    const auto [it, added] = first_.try_emplace(section.name, &section);
    if (!added) {
        report.error(section, section.line, "",
                     "section defined twice, first at " + it->second->file + ":" + std::to_string(it->second->line) +
                         "; accepted: " + std::string(once));
    }
    return added;
}

const IniSection* SectionNames::find(const std::string& name) const {
    const auto it = first_.find(name);
    return it == first_.end() ? nullptr : it->second;
}

Fields::Fields(Report& report, const IniSection& section, bool duplicate)
    : report_(report), section_(section), first_(section.entries.size(), true), duplicate_(duplicate) {
    const auto& entries = section.entries;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (first_[j] && entries[j].key == entries[i].key) {
                first_[i] = false;
                error(entries[i], "given twice, first at line " + std::to_string(entries[j].line) +
                                      "; accepted: each key once per section");
                break;
            }
        }
    }
}

const IniEntry* Fields::find(std::string_view key) {
    known_.push_back(key);
    for (std::size_t i = 0; i < section_.entries.size(); ++i) {
        if (first_[i] && section_.entries[i].key == key) return &section_.entries[i];
    }
    return nullptr;
}

std::vector<const IniEntry*> Fields::take_all() {
    std::vector<const IniEntry*> out;
    for (std::size_t i = 0; i < section_.entries.size(); ++i) {
        if (!first_[i]) continue;
        out.push_back(&section_.entries[i]);
        known_.push_back(section_.entries[i].key);
    }
    return out;
}

void Fields::error(const IniEntry& entry, std::string_view what) {
    report_.error(section_, entry.line, entry.key, what);
}

void Fields::error(std::string_view key, std::string_view what) {
    if (!duplicate_) report_.error(section_, section_.line, key, what);
}

void Fields::warning(const IniEntry& entry, std::string_view what) {
    report_.warning(section_, entry.line, entry.key, what);
}

const IniEntry* Fields::text(std::string_view key, std::string& out) {
    const IniEntry* e = find(key);
    if (e) out = e->value;
    return e;
}

const IniEntry* Fields::required_text(std::string_view key, std::string& out) {
    const IniEntry* e = find(key);
    if (!e) {
        error(key, "missing; accepted: " + std::string(key) + " = VALUE in this section");
        return nullptr;
    }
    if (e->value.empty()) {
        error(*e, "empty; accepted: a non-empty value");
        return nullptr;
    }
    out = e->value;
    return e;
}

const IniEntry* Fields::duration(std::string_view key, std::int64_t& out, std::int64_t min_ms, std::int64_t max_ms) {
    const IniEntry* e = find(key);
    if (!e) return nullptr;
    const auto range = format_duration_ms(min_ms) + ".." + format_duration_ms(max_ms);
    const auto ms = parse_duration_ms(e->value);
    if (!ms) {
        error(*e, "bad duration " + quote(e->value) + "; accepted: " + range + " as a number and ms, s, min, h or d");
        return nullptr;
    }
    if (*ms < min_ms || *ms > max_ms) {
        error(*e, quote(e->value) + " out of range; accepted: " + range);
        return nullptr;
    }
    out = *ms;
    return e;
}

const IniEntry* Fields::size(std::string_view key, std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
    const IniEntry* e = find(key);
    if (!e) return nullptr;
    const auto range = format_size(min) + ".." + format_size(max);
    const auto bytes = parse_size_bytes(e->value);
    if (!bytes) {
        error(*e, "bad size " + quote(e->value) + "; accepted: " + range +
                      " as a number, optionally with B, KiB, MiB, GiB or TiB");
        return nullptr;
    }
    if (*bytes < min || *bytes > max) {
        error(*e, quote(e->value) + " out of range; accepted: " + range);
        return nullptr;
    }
    out = *bytes;
    return e;
}

std::optional<std::int64_t> Fields::integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const IniEntry* e = find(key);
    if (!e) return std::nullopt;
    std::int64_t value = 0;
    const auto& v = e->value;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    const auto range = std::to_string(min) + ".." + std::to_string(max);
    if (v.empty() || ec == std::errc::invalid_argument || ptr != v.data() + v.size()) {
        error(*e, "not an integer " + quote(v) + "; accepted: " + range);
        return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || value < min || value > max) {
        error(*e, quote(v) + " out of range; accepted: " + range);
        return std::nullopt;
    }
    return value;
}

const IniEntry* Fields::boolean(std::string_view key, bool& out) {
    const IniEntry* e = find(key);
    if (!e) return nullptr;
    const auto value = parse_bool(e->value);
    if (!value) {
        error(*e, "bad boolean " + quote(e->value) + "; accepted: true false yes no on off");
        return nullptr;
    }
    out = *value;
    return e;
}

void Fields::finish() {
    std::string accepted;
    std::set<std::string_view> listed;  // getters may look a key up more than once
    for (const auto key : known_) {
        if (listed.insert(key).second) accepted += (accepted.empty() ? "" : " ") + std::string(key);
    }
    for (std::size_t i = 0; i < section_.entries.size(); ++i) {
        const auto& e = section_.entries[i];
        if (!first_[i] || std::find(known_.begin(), known_.end(), e.key) != known_.end()) continue;
        report_.error(section_, e.line, e.key, "unknown key; accepted: " + accepted);
    }
}

}  // namespace fieldgate::util
