#include "connect_check.hpp"

#include <cstdio>

#include "fieldgate/util/sha256.hpp"

namespace fieldgate::cloudsim {
namespace {

class Reader {
public:
    explicit Reader(std::string_view data) : data_(data) {}
    bool u8(int& out) {
        if (pos_ + 1 > data_.size()) return false;
        out = static_cast<std::uint8_t>(data_[pos_++]);
        return true;
    }
    bool u16(std::size_t& out) {
        int hi = 0;
        int lo = 0;
        if (!u8(hi) || !u8(lo)) return false;
        out = static_cast<std::size_t>(hi) << 8 | static_cast<std::size_t>(lo);
        return true;
    }
    bool text(std::string& out) {
        std::size_t n = 0;
        if (!u16(n) || pos_ + n > data_.size()) return false;
        out.assign(data_.substr(pos_, n));
        pos_ += n;
        return true;
    }
    bool skip(std::size_t n) {
        if (pos_ + n > data_.size()) return false;
        pos_ += n;
        return true;
    }
    std::size_t pos() const { return pos_; }

private:
    std::string_view data_;
    std::size_t pos_ = 0;
};

std::string upper_hex_sha256(const std::string& text) {
    const auto digest = util::sha256(text);
    std::string out;
    char buf[3];
    for (const auto b : digest) {
        std::snprintf(buf, sizeof buf, "%02X", b);
        out += buf;
    }
    return out;
}

}  // namespace

std::optional<std::size_t> mqtt_packet_length(std::string_view data) {
    std::size_t value = 0;
    for (std::size_t i = 1; i <= 4; ++i) {
        if (i >= data.size()) return std::nullopt;
        const auto byte = static_cast<std::uint8_t>(data[i]);
        value |= static_cast<std::size_t>(byte & 0x7F) << (7 * (i - 1));
        if ((byte & 0x80) == 0) return 1 + i + value;
    }
    return 0;
}

std::optional<ConnectPacket> parse_connect(std::string_view packet) {
    const auto length = mqtt_packet_length(packet);
    if (!length || *length == 0 || *length > packet.size() || static_cast<std::uint8_t>(packet[0]) != 0x10)
        return std::nullopt;
    Reader r(packet.substr(0, *length));
    int ignored = 0;
    r.u8(ignored);
    do {
        if (!r.u8(ignored)) return std::nullopt;
    } while (ignored & 0x80);
    ConnectPacket c;
    std::string protocol;
    int flags = 0;
    std::size_t keepalive = 0;
    if (!r.text(protocol) || !r.u8(c.protocol_level) || !r.u8(flags) || !r.u16(keepalive) || !r.text(c.client_id))
        return std::nullopt;
    if (protocol != "MQTT" && protocol != "MQIsdp") return std::nullopt;
    if (flags & 0x04) {  // will: topic and message
        std::string skip;
        if (!r.text(skip) || !r.text(skip)) return std::nullopt;
    }
    if (flags & 0x80) {
        c.username.emplace();
        if (!r.text(*c.username)) return std::nullopt;
    }
    if (flags & 0x40) {
        c.password.emplace();
        if (!r.text(*c.password)) return std::nullopt;
    }
    return c;
}

int check_connect(const ConnectPacket& c, const Identity& gw, std::string& why) {
    if (c.protocol_level != 4) {
        why = "protocol level " + std::to_string(c.protocol_level) + ", not MQTT 3.1.1";
        return 1;
    }
    // ID|securemode=2,signmethod=sha256,timestamp=TS|
    const std::string marker = "|securemode=2,signmethod=sha256,timestamp=";
    const auto at = c.client_id.find(marker);
    if (at == std::string::npos || c.client_id.back() != '|' || at + marker.size() >= c.client_id.size() - 1) {
        why = "client id '" + c.client_id + "' is not ID|securemode=2,signmethod=sha256,timestamp=TS|";
        return 2;
    }
    const std::string id = c.client_id.substr(0, at);
    const std::string ts = c.client_id.substr(at + marker.size(), c.client_id.size() - 1 - at - marker.size());
    if (!c.username || *c.username != gw.device_key + "&" + gw.product_key) {
        why = "user name '" + c.username.value_or("") + "' is not " + gw.device_key + "&" + gw.product_key;
        return 5;
    }
    const std::string expected = upper_hex_sha256("clientId" + id + "deviceKey" + gw.device_key + "productKey" +
                                                  gw.product_key + "timestamp" + ts + gw.device_secret);
    if (!c.password || *c.password != expected) {
        why = "password is not the signature with the gateway's secret";
        return 4;
    }
    return 0;
}

std::string connack(int code) {
    return std::string{'\x20', '\x02', '\x00', static_cast<char>(code)};
}

}  // namespace fieldgate::cloudsim
