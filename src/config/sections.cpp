#include "sections.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "fieldgate/config/point_grammar.hpp"
#include "fieldgate/util/openssl_library.hpp"
#include "fieldgate/util/units.hpp"

namespace fieldgate::config::detail {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = kKiB * 1024;
constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
// Far above any sane secret; bounds what a wrong path (a log, a device node) makes us read.
constexpr std::size_t kMaxSecretBytes = 4096;

// A relative path in a setting is taken from the folder of the file that names it, so a config
// reads the same whatever the daemon's working directory.
std::string resolve(const IniSection& s, const std::string& path) {
    if (path.empty() || path.front() == '/') return path;
    const auto dir = std::filesystem::path(s.file).parent_path();
    return dir.empty() ? path : (dir / path).string();
}

void check_readable(Fields& f, const IniEntry& e, const std::string& path) {
    if (::access(path.c_str(), R_OK) != 0) {
        f.error(e, "cannot read " + quote(path) + ": " + std::strerror(errno) + "; accepted: a readable file");
    }
}

void read_secret_file(Fields& f, const IniEntry& e, const std::string& path, std::string& secret) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        f.error(e, "cannot read " + quote(path) + ": " + std::strerror(errno) + "; accepted: a readable file");
        return;
    }
    struct stat st {};
    std::string text;
    std::string failure;
    if (::fstat(fd, &st) != 0) {
        failure = std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        failure = "not a regular file";
    } else {
        char buf[kMaxSecretBytes + 1];
        for (;;) {
            const auto n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) failure = std::strerror(errno);
            if (n <= 0) break;
            text.append(buf, static_cast<std::size_t>(n));
            if (text.size() > kMaxSecretBytes) {
                failure = "larger than " + std::to_string(kMaxSecretBytes) + " bytes";
                break;
            }
        }
    }
    ::close(fd);
    if (!failure.empty()) {
        f.error(e, "cannot read " + quote(path) + ": " + failure + "; accepted: a readable file with the secret");
        return;
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    if (text.empty()) {
        f.error(e, quote(path) + " is empty; accepted: a file holding the device secret");
        return;
    }
    secret = std::move(text);
    // DESIGN.md: warn when others can read it. Group read is the packaged layout
    // (root:fieldgate 0640) and says nothing wrong.
    if ((st.st_mode & S_IROTH) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        f.warning(e, quote(path) + " is readable by others (mode " + mode +
                         "); accepted: mode 0600 or 0640, not readable by others");
    }
}

// Reads device_secret / device_secret_file. Returns whether either was given.
bool read_secret(Fields& f, std::string& secret, std::string& secret_file, bool required) {
    const IniEntry* inline_secret = f.find("device_secret");
    const IniEntry* file = f.find("device_secret_file");
    if (inline_secret && file) {
        f.error(*file, "device_secret given too; accepted: exactly one of device_secret and device_secret_file");
    } else if (inline_secret) {
        if (inline_secret->value.empty()) {
            f.error(*inline_secret, "empty; accepted: the device secret");
        } else {
            secret = inline_secret->value;
        }
    } else if (file) {
        if (file->value.empty()) {
            f.error(*file, "empty; accepted: the path of a file holding the device secret");
        } else {
            secret_file = resolve(f.section(), file->value);
            read_secret_file(f, *file, secret_file, secret);
        }
    } else if (required) {
        f.error("device_secret", "missing; accepted: device_secret = SECRET or device_secret_file = PATH");
    }
    return inline_secret || file;
}

int refuse_passphrase(char*, int, int, void*) {
    return 0;  // an encrypted key would make OpenSSL ask the terminal: the daemon has none
}

// Reads the files as the TLS handshake will, so a wrong one is a config error at start and not
// a handshake failing every few minutes for ever.
void check_tls_files(Fields& f, const Mqtt& m) {
    const IniEntry* ca_entry = f.find("ca_file");
    const IniEntry* uri_entry = f.find("uri");
    const std::string ca = m.ca_file.empty() ? util::kSystemCaFile : m.ca_file;
    if (m.ca_file.empty() && ::access(ca.c_str(), R_OK) != 0) {
        if (uri_entry)
            f.error(*uri_entry, "ssl:// without ca_file and the system store " + quote(ca) +
                                    " cannot be read; accepted: ca_file = PATH, or the ca-certificates package");
        return;
    }
    if (!m.ca_file.empty() && ::access(ca.c_str(), R_OK) != 0) return;  // reported already
    std::string load_error;
    const util::OpenSsl* ssl = util::OpenSsl::get(&load_error);
    if (!ssl) {
        f.warning(ca_entry ? *ca_entry : *uri_entry, "TLS files not checked: " + load_error);
        return;
    }
    std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(ssl->ctx_new(ssl->tls_client_method()), ssl->ctx_free);
    if (!ctx) return;
    ssl->ctx_set_default_passwd_cb(ctx.get(), &refuse_passphrase);
    ssl->err_clear();
    if (ssl->ctx_load_verify_locations(ctx.get(), ca.c_str(), nullptr) != 1) {
        const std::string why = ssl->take_error();
        if (ca_entry && !m.ca_file.empty())
            f.error(*ca_entry, "no CA certificate in " + quote(ca) + " (" + why + "); accepted: PEM certificates");
        else if (uri_entry)
            f.error(*uri_entry, "no CA certificate in the system store " + quote(ca) + " (" + why +
                                    "); accepted: ca_file = PATH, or the ca-certificates package");
    }
    if (m.cert_file.empty() || ::access(m.cert_file.c_str(), R_OK) != 0 || ::access(m.key_file.c_str(), R_OK) != 0)
        return;
    const IniEntry* cert_entry = f.find("cert_file");
    const IniEntry* key_entry = f.find("key_file");
    if (ssl->ctx_use_certificate_chain_file(ctx.get(), m.cert_file.c_str()) != 1) {
        f.error(*cert_entry, "no certificate in " + quote(m.cert_file) + " (" + ssl->take_error() +
                                 "); accepted: the client certificate in PEM, then its chain");
        return;
    }
    if (X509* cert = ssl->ctx_get0_certificate(ctx.get()); cert && ssl->cmp_current_time(ssl->get0_not_after(cert)) < 0)
        f.warning(*cert_entry,
                  quote(m.cert_file) + " has expired; the hub will refuse it; accepted: a valid certificate");
    if (ssl->ctx_use_private_key_file(ctx.get(), m.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        const std::string why = ssl->take_error();
        // use_PrivateKey_file also checks the key against the certificate loaded before it.
        if (why.find("values mismatch") != std::string::npos || why.find("mismatch") != std::string::npos)
            f.error(*key_entry, "the key does not match the certificate in " + quote(m.cert_file) +
                                    "; accepted: the private key of cert_file");
        else
            f.error(*key_entry, "no private key in " + quote(m.key_file) + " (" + why +
                                    "); accepted: an unencrypted PEM private key");
        return;
    }
    if (ssl->ctx_check_private_key(ctx.get()) != 1)
        f.error(*key_entry, "the key does not match the certificate in " + quote(m.cert_file) +
                                "; accepted: the private key of cert_file");
}

// rts_delay takes a duration, or microseconds as `NNNus` (one character at 115200 baud is 95 us).
const IniEntry* read_rts_delay(Fields& f, Bus& b) {
    const IniEntry* e = f.find("rts_delay");
    if (!e) return nullptr;
    const std::string_view v = e->value;
    std::optional<std::int64_t> us;
    if (v.size() > 2 && v.substr(v.size() - 2) == "us") {
        std::int64_t n = 0;
        const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size() - 2, n);
        if (ec == std::errc{} && ptr == v.data() + v.size() - 2) us = n;
    } else if (const auto ms = util::parse_duration_ms(v)) {
        us = *ms * 1000;
    }
    if (!us || *us < 0 || *us > 1'000'000) {
        f.error(*e, "bad delay " + quote(e->value) + "; accepted: 0us..1s, e.g. 500us or 1ms");
        return nullptr;
    }
    b.rts_delay_us = *us;
    return e;
}

}  // namespace

std::optional<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    auto host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') return std::nullopt;
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return std::nullopt;  // a bare IPv6 address is ambiguous with the port
    }
    for (const char c : host) {
        if (c <= ' ' || c == '/' || c == '@' || c == '[' || c == ']' || c == 0x7f) return std::nullopt;
    }
    const auto port_text = text.substr(colon + 1);
    unsigned port = 0;
    const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || ptr != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
        return std::nullopt;
    }
    return std::make_pair(std::string(host), static_cast<std::uint16_t>(port));
}

void read_gateway(Fields& f, Gateway& g) {
    f.required_text("product_key", g.product_key);
    f.required_text("device_key", g.device_key);
    read_secret(f, g.device_secret, g.device_secret_file, true);
    if (const IniEntry* e = f.text("control_socket", g.control_socket)) {
        // sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
        if (g.control_socket.empty() || g.control_socket.front() != '/' || g.control_socket.size() > 107) {
            f.error(*e,
                    "bad socket path " + quote(g.control_socket) + "; accepted: an absolute path of at most 107 bytes");
        }
    }
}

void read_mqtt(Fields& f, Mqtt& m) {
    bool tls = false;
    if (const IniEntry* e = f.required_text("uri", m.uri)) {
        const std::string_view uri = m.uri;
        tls = uri.substr(0, 6) == "ssl://";
        if ((uri.substr(0, 6) != "tcp://" && !tls) || !parse_host_port(uri.substr(6))) {
            f.error(*e, "bad broker address " + quote(uri) + "; accepted: tcp://host:port or ssl://host:port");
        }
    }
    f.duration("keepalive", m.keepalive_ms, 60 * kSecond, 300 * kSecond);
    f.duration("connect_timeout", m.connect_timeout_ms, kSecond, 5 * kMinute);
    for (const auto& [key, out] : {std::pair<std::string_view, std::string*>{"ca_file", &m.ca_file},
                                   {"cert_file", &m.cert_file},
                                   {"key_file", &m.key_file}}) {
        const IniEntry* e = f.find(key);
        if (!e || e->value.empty()) continue;  // `cert_file =` means none, as in the shipped file
        *out = resolve(f.section(), e->value);
        check_readable(f, *e, *out);
        if (!tls && !m.uri.empty())
            f.error(*e, "TLS file with a tcp:// uri; accepted: ca_file, cert_file, key_file with ssl:// only");
    }
    if (m.cert_file.empty() != m.key_file.empty()) {
        f.error(*f.find(m.cert_file.empty() ? "key_file" : "cert_file"),
                "client certificate and key go together; accepted: both cert_file and key_file, or neither");
    } else if (tls) {
        check_tls_files(f, m);
    }
}

void read_store(Fields& f, Store& s) {
    if (const IniEntry* e = f.text("path", s.path); e && s.path.empty()) {
        f.error(*e, "empty; accepted: the database file's path");
    } else if (e) {
        s.path = resolve(f.section(), s.path);
    }
    f.size("max_bytes", s.max_bytes, kMiB, 1ULL << 40);
    f.duration("max_age", s.max_age_ms, kMinute, 3650 * kDay);
    f.choice<Overflow>("overflow", s.overflow,
                       {{"drop_oldest", Overflow::DropOldest}, {"drop_newest", Overflow::DropNewest}});
    f.duration("commit_interval", s.commit_interval_ms, 10, kMinute);
    f.choice<Durability>("durability", s.durability, {{"normal", Durability::Normal}, {"full", Durability::Full}});
}

void read_uplink(Fields& f, Uplink& u) {
    if (const auto v = f.integer("batch_max_records", 1, 100'000)) u.batch_max_records = static_cast<std::uint32_t>(*v);
    // EnOS refuses MQTT payloads over 512KiB.
    f.size("batch_max_bytes", u.batch_max_bytes, kKiB, 512 * kKiB);
    if (const auto v = f.integer("inflight", 1, 64)) u.inflight = static_cast<std::uint32_t>(*v);
    f.duration("reply_timeout", u.reply_timeout_ms, kSecond, 10 * kMinute);
    f.duration("resume_after", u.resume_after_ms, kSecond, 30 * kDay);
    const IniEntry* min_e = f.duration("retry_min", u.retry_min_ms, 10, kHour);
    const IniEntry* max_e = f.duration("retry_max", u.retry_max_ms, 10, kDay);
    if (u.retry_min_ms > u.retry_max_ms) {
        f.error(max_e ? *max_e : *min_e, "retry_min " + util::format_duration_ms(u.retry_min_ms) +
                                             " is above retry_max " + util::format_duration_ms(u.retry_max_ms) +
                                             "; accepted: retry_min <= retry_max");
    }
    f.choice<AllowOffline>(
        "allow_offline_subdevice", u.allow_offline_subdevice,
        {{"auto", AllowOffline::Auto}, {"true", AllowOffline::True}, {"false", AllowOffline::False}});
    f.boolean("skip_invalid_measurepoints", u.skip_invalid_measurepoints);
}

void read_bus(Fields& f, Bus& b) {
    const IniEntry* type = f.choice<BusType>("type", b.type, {{"rtu", BusType::Rtu}, {"tcp", BusType::Tcp}});
    if (!type && !f.find("type")) f.error("type", "missing; accepted: rtu | tcp");

    const IniEntry* device = f.text("device", b.device);
    const IniEntry* baud = f.find("baud");
    if (baud) {
        static constexpr std::uint32_t kRates[] = {300,   600,   1200,   2400,   4800,   9600,  19200,
                                                   38400, 57600, 115200, 230400, 460800, 921600};
        const auto rate = f.integer("baud", 0, 921600);
        const auto* hit = rate ? std::find(std::begin(kRates), std::end(kRates), *rate) : std::end(kRates);
        if (hit != std::end(kRates)) {
            b.baud = *hit;
        } else if (rate) {
            f.error(*baud, quote(baud->value) +
                               " is not a standard rate; accepted: 300 600 1200 2400 4800 9600 19200 38400 "
                               "57600 115200 230400 460800 921600");
        }
    }
    const IniEntry* parity =
        f.choice<Parity>("parity", b.parity, {{"N", Parity::None}, {"E", Parity::Even}, {"O", Parity::Odd}});
    const auto data_bits = f.integer("data_bits", 5, 8);
    if (data_bits) b.data_bits = static_cast<std::uint8_t>(*data_bits);
    const auto stop_bits = f.integer("stop_bits", 1, 2);
    if (stop_bits) b.stop_bits = static_cast<std::uint8_t>(*stop_bits);
    const IniEntry* frame_gap = f.duration("frame_gap", b.frame_gap_ms, 0, kSecond);
    const IniEntry* rs485 = f.boolean("rs485", b.rs485);
    const IniEntry* rts = f.choice<Rts>("rts", b.rts, {{"none", Rts::None}, {"up", Rts::Up}, {"down", Rts::Down}});
    const IniEntry* rts_delay = read_rts_delay(f, b);

    const IniEntry* host = f.text("host", b.host);
    const auto port = f.integer("port", 1, 65535);
    if (port) b.port = static_cast<std::uint16_t>(*port);
    const IniEntry* timeout = f.duration("timeout", b.timeout_ms, 10, kMinute);
    if (!type) return;

    const std::vector<const IniEntry*> rtu_keys{device,
                                                baud,
                                                parity,
                                                f.find("data_bits"),
                                                f.find("stop_bits"),
                                                frame_gap ? frame_gap : f.find("frame_gap"),
                                                rs485 ? rs485 : f.find("rs485"),
                                                rts ? rts : f.find("rts"),
                                                rts_delay ? rts_delay : f.find("rts_delay")};
    const std::vector<const IniEntry*> tcp_keys{host, f.find("port")};
    const auto& wrong = b.type == BusType::Rtu ? tcp_keys : rtu_keys;
    for (const IniEntry* e : wrong) {
        if (!e) continue;
        f.error(*e, b.type == BusType::Rtu
                        ? "mixed up RTU and TCP options; accepted: host and port with type = tcp only"
                        : "mixed up RTU and TCP options; accepted: device baud parity data_bits stop_bits frame_gap "
                          "rs485 rts rts_delay with type = rtu only");
    }
    if (b.type == BusType::Rtu) {
        if (!device)
            f.error("device", "missing; accepted: the serial device, e.g. /dev/ttyS1");
        else if (b.device.empty())
            f.error(*device, "empty; accepted: the serial device, e.g. /dev/ttyS1");
        if (!timeout) b.timeout_ms = 500;
        if (rts_delay && b.rts == Rts::None && !f.find("rts")) {
            f.error(*rts_delay, "rts_delay without rts; accepted: rts_delay with rts = up or rts = down");
        }
    } else {
        if (!host)
            f.error("host", "missing; accepted: the Modbus TCP server's name or address");
        else if (b.host.empty())
            f.error(*host, "empty; accepted: the Modbus TCP server's name or address");
    }
}

void read_model(Fields& f, Model& m) {
    const auto entries = f.take_all();
    if (entries.empty()) {
        f.error("", "model has no point; accepted: at least one <id> = <table>:<address> <type> line");
    }
    for (const IniEntry* e : entries) {
        auto parsed = parse_point(e->key, e->value);
        for (const auto& what : parsed.errors)
            f.error(*e, what);
        if (!parsed.point) continue;
        parsed.point->line = e->line;
        m.points.push_back(std::move(*parsed.point));
    }
}

DeviceSource read_device(Fields& f, Device& d) {
    DeviceSource src;
    src.section = &f.section();
    const IniEntry* pk = f.text("product_key", d.product_key);
    const IniEntry* dk = f.text("device_key", d.device_key);
    for (const IniEntry* e : {pk, dk}) {
        if (e && e->value.empty()) f.error(*e, "empty; accepted: a key, or leave it out for the gateway itself");
    }
    if ((pk == nullptr) != (dk == nullptr)) {
        f.error(pk ? *pk : *dk,
                "product_key and device_key go together; accepted: both (a sub-device) or neither "
                "(the gateway's own points)");
    }
    const bool sub_device = pk || dk;
    if (read_secret(f, d.device_secret, d.device_secret_file, sub_device) && !sub_device) {
        const IniEntry* e = f.find("device_secret");
        f.error(
            e ? *e : *f.find("device_secret_file"),
            "a device without product_key/device_key is the gateway itself; accepted: its secret in [gateway] only");
    }
    if (const IniEntry* e = f.required_text("model", d.model)) src.model_line = e->line;
    if (const IniEntry* e = f.required_text("bus", d.bus)) src.bus_line = e->line;
    if (const auto unit = f.integer("unit_id", 0, 255)) {
        d.unit_id = static_cast<std::uint8_t>(*unit);
        src.unit_ok = true;
    }
    if (const IniEntry* e = f.find("unit_id")) src.unit_line = e->line;
    f.duration("interval", d.interval_ms, 10, kDay);
    if (const auto n = f.integer("offline_after", 1, 1000)) d.offline_after = static_cast<std::uint32_t>(*n);
    std::int64_t timeout = 0;
    if (f.duration("timeout", timeout, 10, kMinute)) d.timeout_ms = timeout;
    f.duration("probe_max", d.probe_max_ms, kSecond, kDay);
    f.duration("write_interval", d.write_interval_ms, 0, kHour);
    return src;
}

}  // namespace fieldgate::config::detail
