#include "fieldgate/enos/sign.hpp"

#include "fieldgate/util/sha256.hpp"

namespace fieldgate::enos {

std::string sha256_hex(std::string_view data) {
    const auto digest = util::sha256(data);
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(digest.size() * 2);
    for (std::uint8_t b : digest) {
        out += kHex[b >> 4];
        out += kHex[b & 0x0F];
    }
    return out;
}

std::string sign(const std::map<std::string, std::string>& params, std::string_view secret) {
    std::string text;
    for (const auto& [name, value] : params) {  // std::map iterates in name order
        text += name;
        text += value;
    }
    text += secret;
    return sha256_hex(text);
}

ConnectCredentials connect_credentials(std::string_view product_key, std::string_view device_key,
                                       std::string_view secret, std::int64_t timestamp_ms) {
    const std::string pk(product_key);
    const std::string dk(device_key);
    const std::string ts = std::to_string(timestamp_ms);
    const std::string id = pk + "." + dk;
    ConnectCredentials c;
    c.client_id = id + "|securemode=2,signmethod=sha256,timestamp=" + ts + "|";
    c.username = dk + "&" + pk;
    c.password = sign({{"clientId", id}, {"deviceKey", dk}, {"productKey", pk}, {"timestamp", ts}}, secret);
    return c;
}

}  // namespace fieldgate::enos
