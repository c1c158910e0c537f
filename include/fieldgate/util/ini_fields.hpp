#pragma once
// Typed access to one INI section's settings, and the message format: shared by fieldgated's
// configuration and the simulators' files, so all three read and report the same way.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fieldgate/util/ini_reader.hpp"

namespace fieldgate::util {

/// Collects messages, formatted `FILE:LINE: [SECTION] KEY: what is wrong; what is accepted`.
class Report {
public:
    Report(std::vector<std::string>& errors, std::vector<std::string>& warnings)
        : errors_(errors), warnings_(warnings) {}

    /// `key` empty: the message is about the section as a whole.
    void error(const IniSection& section, int line, std::string_view key, std::string_view what);
    void warning(const IniSection& section, int line, std::string_view key, std::string_view what);
    void error(std::string text) { errors_.push_back(std::move(text)); }
    /// `[NAME]: unknown section; accepted: <accepted>` at the header's line.
    void unknown_section(const IniSection& section, std::string_view accepted);

private:
    std::vector<std::string>& errors_;
    std::vector<std::string>& warnings_;
};

/// The sections met so far, by name.
class SectionNames {
public:
    /// True when `section` is the first of its name; otherwise reports
    /// `section defined twice, first at FILE:LINE; accepted: <once>`.
    bool add(Report& report, const IniSection& section, std::string_view once);
    /// The first section called `name`, or nullptr.
    const IniSection* find(const std::string& name) const;

private:
    std::map<std::string, const IniSection*> first_;
};

/// One section's settings, each taken once by name. Keys given twice are reported on
/// construction; keys never asked for are reported as unknown by finish(), so a reader that asks
/// for every key it knows needs no separate list.
class Fields {
public:
    /// `duplicate`: the section was defined before; its values are still checked, but what it
    /// lacks is not reported (the first definition has it, or is reported itself).
    Fields(Report& report, const IniSection& section, bool duplicate = false);

    const IniSection& section() const { return section_; }
    /// The entry for `key` (its first one), or nullptr when absent. Marks `key` as known.
    const IniEntry* find(std::string_view key);
    /// Every entry (first of each key), all marked known: for [model.*], whose keys are point ids.
    std::vector<const IniEntry*> take_all();

    void error(const IniEntry& entry, std::string_view what);
    /// At the section header's line, e.g. for a missing key; not reported in a duplicate.
    void error(std::string_view key, std::string_view what);
    void warning(const IniEntry& entry, std::string_view what);

    /// Typed getters: leave `out` alone when the key is absent or invalid (the error is
    /// reported). Return the entry when it was given and valid.
    const IniEntry* text(std::string_view key, std::string& out);
    /// Non-empty; reports a missing key.
    const IniEntry* required_text(std::string_view key, std::string& out);
    const IniEntry* duration(std::string_view key, std::int64_t& out, std::int64_t min_ms, std::int64_t max_ms);
    const IniEntry* size(std::string_view key, std::uint64_t& out, std::uint64_t min, std::uint64_t max);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
    const IniEntry* boolean(std::string_view key, bool& out);
    template <typename E>
    const IniEntry* choice(std::string_view key, E& out, const std::vector<std::pair<std::string_view, E>>& choices);

    /// Reports every key no getter asked for.
    void finish();

private:
    Report& report_;
    const IniSection& section_;
    std::vector<bool> first_;  ///< per entry: the first of its key (later ones are duplicates)
    std::vector<std::string_view> known_;
    bool duplicate_;
};

template <typename E>
const IniEntry* Fields::choice(std::string_view key, E& out,
                               const std::vector<std::pair<std::string_view, E>>& choices) {
    const IniEntry* e = find(key);
    if (!e) return nullptr;
    std::string accepted;
    for (const auto& [name, value] : choices) {
        if (e->value == name) {
            out = value;
            return e;
        }
        accepted += (accepted.empty() ? "" : " | ") + std::string(name);
    }
    error(*e, "bad value " + quote(e->value) + "; accepted: " + accepted);
    return nullptr;
}

}  // namespace fieldgate::util
