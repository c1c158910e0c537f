#include "fieldgate/modbus/tcp_frame.hpp"

#include <cstring>
#include <string>

namespace fieldgate::modbus {

namespace {

unsigned be16(const std::uint8_t* p) {
    return (unsigned{p[0]} << 8) | p[1];
}

}  // namespace

std::size_t tcp_frame(std::uint16_t transaction, const std::uint8_t* adu, std::size_t adu_length, std::uint8_t* out) {
    out[0] = static_cast<std::uint8_t>(transaction >> 8);
    out[1] = static_cast<std::uint8_t>(transaction & 0xFF);
    out[2] = 0;
    out[3] = 0;
    out[4] = static_cast<std::uint8_t>(adu_length >> 8);
    out[5] = static_cast<std::uint8_t>(adu_length & 0xFF);
    std::memcpy(out + kMbapLength, adu, adu_length);
    return kMbapLength + adu_length;
}

std::size_t tcp_expected_length(const std::uint8_t* data, std::size_t length) {
    if (length < kMbapLength) return 0;
    return kMbapLength + be16(data + 4);
}

Result check_tcp_length(std::size_t expected) {
    if (expected < kMbapLength + 3 || expected > kTcpMaxFrame)
        return Result{Outcome::Garbled, 0, "frame length " + std::to_string(expected - kMbapLength)};
    return Result{};
}

Result check_tcp_frame(const std::uint8_t* data, std::size_t length, std::uint16_t transaction) {
    const std::size_t expected = tcp_expected_length(data, length);
    if (expected == 0 || length != expected)
        return Result{Outcome::Garbled, 0, "malformed frame (" + std::to_string(length) + " bytes)"};
    if (be16(data + 2) != 0) return Result{Outcome::Garbled, 0, "protocol id " + std::to_string(be16(data + 2))};
    if (Result r = check_tcp_length(expected); !r.ok()) return r;
    if (be16(data) != transaction)
        return Result{
            Outcome::Garbled, 0,
            "reply to transaction " + std::to_string(be16(data)) + ", expected " + std::to_string(transaction)};
    return Result{};
}

}  // namespace fieldgate::modbus
