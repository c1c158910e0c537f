#pragma once
// Shared by the fuzz targets: a JSON validity oracle and a cursor over the fuzzer's bytes.
#include <json/json.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace fieldgate::fuzz {

/// Aborts (a finding) when `text` is not one complete, strict JSON value. What the product sends
/// is an object or an array; `scalar_root` also takes a bare number, string, true/false or null
/// (RFC 8259 allows them; jsoncpp's strict mode does not).
inline Json::Value must_parse(const std::string& text, const char* what, bool scalar_root = false) {
    Json::CharReaderBuilder b;
    Json::CharReaderBuilder::strictMode(&b.settings_);
    b.settings_["rejectDupKeys"] = false;
    b.settings_["strictRoot"] = !scalar_root;
    const std::unique_ptr<Json::CharReader> r(b.newCharReader());
    Json::Value v;
    std::string errs;
    if (!r->parse(text.data(), text.data() + text.size(), &v, &errs)) {
        std::fprintf(stderr, "%s is not valid JSON (%s): %s\n", what, errs.c_str(), text.c_str());
        std::abort();
    }
    return v;
}

inline void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz oracle failed: %s\n", what);
        std::abort();
    }
}

/// Takes the fuzzer's bytes piece by piece; past the end everything is zero/empty.
class Bytes {
public:
    Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }
    /// A string of at most `max` bytes, its length taken from the next byte.
    std::string str(std::size_t max) {
        std::size_t n = u8() % (max + 1);
        if (n > size_ - pos_) n = size_ - pos_;
        std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
        pos_ += n;
        return s;
    }
    std::string_view rest() {
        std::string_view v(reinterpret_cast<const char*>(data_ + pos_), size_ - pos_);
        pos_ = size_;
        return v;
    }
    bool empty() const { return pos_ >= size_; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

}  // namespace fieldgate::fuzz
