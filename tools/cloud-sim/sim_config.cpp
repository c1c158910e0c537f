#include "sim_config.hpp"

#include <ini.h>

#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "fieldgate/util/units.hpp"

namespace fieldgate::cloudsim {
namespace {

// inih reports no line numbers through this Debian build (INI_HANDLER_LINENO 0), so the reader
// counts them: inih asks for one line per call, in chunks only when a line exceeds INI_MAX_LINE.
struct TextStream {
    std::string_view text;
    std::size_t pos = 0;
    int line = 0;
    bool at_line_start = true;
};

char* read_line(char* str, int num, void* stream) noexcept {
    auto* s = static_cast<TextStream*>(stream);
    if (s->pos >= s->text.size() || num <= 1) return nullptr;
    if (s->at_line_start) ++s->line;
    const std::size_t room = static_cast<std::size_t>(num) - 1;
    std::size_t n = 0;
    while (n < room && s->pos < s->text.size()) {
        const char c = s->text[s->pos++];
        str[n++] = c;
        if (c == '\n') break;
    }
    str[n] = '\0';
    s->at_line_start = n > 0 && str[n - 1] == '\n';
    return str;
}

template <typename T>
std::optional<T> parse_integer(std::string_view text) {
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

class Parser {
public:
    Parser(std::string_view file_name, TextStream& stream) : file_(file_name), stream_(stream) {}

    void on_key(std::string_view section, std::string_view key, std::string_view value) {
        const int line = stream_.line;
        if (section != current_section_) {
            current_section_ = std::string(section);
            if (!seen_sections_.insert(current_section_).second) {
                error(line, section, "", "section defined twice; merge its keys into one section");
            }
            section_lines_.emplace(current_section_, line);
        }
        if (!seen_keys_.insert({std::string(section), std::string(key)}).second) {
            error(line, section, key, "given twice in this section; keep one");
            return;
        }
        if (section == "hub") {
            hub_key(line, key, value);
        } else if (section == "gateway") {
            identity_key(line, section, key, value, result_.product_key, result_.device_key, result_.device_secret);
        } else if (section == "faults") {
            faults_key(line, key, value);
        } else if (section.substr(0, 8) == "product." && section.size() > 8) {
            product_key(line, section, key, value);
        } else if (section.substr(0, 7) == "device." && section.size() > 7) {
            device_key(line, section, key, value);
        } else if (unknown_sections_.insert(std::string(section)).second) {
            error(line, section, "", "unknown section; accepted: [hub] [gateway] [product.PK] [device.NAME] [faults]");
        }
    }

    ConfigResult finish(int syntax_error_line) {
        if (syntax_error_line > 0) {
            error(syntax_error_line, "", "", "syntax error; expected [section], key = value, or a ; comment");
        }
        const auto line_of = [&](const std::string& section) {
            const auto it = section_lines_.find(section);
            return it == section_lines_.end() ? 0 : it->second;
        };
        if (result_.product_key.empty())
            error(line_of("gateway"), "gateway", "product_key", "missing; the gateway's product key");
        if (result_.device_key.empty())
            error(line_of("gateway"), "gateway", "device_key", "missing; the gateway's device key");
        std::set<std::pair<std::string, std::string>> identities;
        for (auto& [name, dev] : devices_) {
            const std::string section = "device." + name;
            const int line = line_of(section);
            if (dev.product_key.empty()) error(line, section, "product_key", "missing; the sub-device's product key");
            if (dev.device_key.empty()) error(line, section, "device_key", "missing; the sub-device's device key");
            if (dev.device_secret.empty())
                error(line, section, "device_secret", "missing; the secret its login is signed with");
            if (dev.product_key.empty() || dev.device_key.empty()) continue;
            if (dev.product_key == result_.product_key && dev.device_key == result_.device_key) {
                error(line, section, "device_key", "is the gateway itself; a sub-device needs its own keys");
            } else if (!identities.insert({dev.product_key, dev.device_key}).second) {
                error(line, section, "device_key", "another [device.*] has the same product_key and device_key");
            }
            if (result_.products.count(dev.product_key) == 0 && unmodelled_.insert(dev.product_key).second) {
                notes_.push_back("product " + dev.product_key + " has no [product." + dev.product_key +
                                 "] section: its points are not checked");
            }
            dev.name = name;
            result_.devices.push_back(dev);
        }
        const Faults& f = result_.faults;
        if ((f.every > 0) != (f.reply_code != 0)) {
            error(line_of("faults"), "faults", f.every > 0 ? "reply_code" : "every",
                  "reply_code and every go together; set both (or neither)");
        }
        ConfigResult out;
        out.errors = std::move(errors_);
        out.notes = std::move(notes_);
        if (out.errors.empty()) {
            sim_.hub = std::move(result_);
            out.config = std::move(sim_);
        }
        return out;
    }

private:
    void error(int line, std::string_view section, std::string_view key, std::string_view what) {
        std::string m = file_;
        if (line > 0) m += ":" + std::to_string(line);
        m += ":";
        if (!section.empty()) m += " [" + std::string(section) + "]";
        if (!key.empty()) m += " " + std::string(key);
        m += key.empty() && section.empty() ? " " : ": ";
        m += what;
        errors_.push_back(std::move(m));
    }

    bool boolean(int line, std::string_view section, std::string_view key, std::string_view value, bool& out) {
        const auto b = util::parse_bool(value);
        if (!b) {
            error(line, section, key,
                  "'" + std::string(value) + "' is not a boolean; accepted: true false yes no on off");
            return false;
        }
        out = *b;
        return true;
    }

    void hub_key(int line, std::string_view key, std::string_view value) {
        if (key == "broker") {
            if (!parse_broker_uri(value)) {
                error(line, "hub", key,
                      "'" + std::string(value) + "' is not a broker address; accepted: tcp://HOST:PORT");
            }
            sim_.broker = std::string(value);
        } else if (key == "client_id") {
            if (value.empty() || value.size() > 64) error(line, "hub", key, "must be 1..64 characters");
            sim_.client_id = std::string(value);
        } else if (key == "records") {
            if (value.empty()) error(line, "hub", key, "empty; a file path for the accepted records");
            sim_.records = std::string(value);
        } else if (key == "append_records") {
            boolean(line, "hub", key, value, sim_.append_records);
        } else if (key == "logout_on_reconnect") {
            boolean(line, "hub", key, value, sim_.logout_on_reconnect);
        } else if (key == "summary_interval") {
            const auto ms = util::parse_duration_ms(value);
            if (!ms || *ms <= 0) {
                error(line, "hub", key,
                      "'" + std::string(value) + "' is not a positive duration; e.g. 10s, 500ms, 1min");
            } else {
                sim_.summary_interval_ms = *ms;
            }
        } else if (key == "front") {
            const auto port = parse_integer<int>(value);
            if (!port || *port < 0 || *port > 65535) {
                error(line, "hub", key,
                      "'" + std::string(value) + "' is not a port; accepted: 1..65535, or 0 for none");
            } else {
                sim_.front_port = static_cast<std::uint16_t>(*port);
            }
        } else if (key == "connects") {
            sim_.connects_log = std::string(value);
        } else {
            error(line, "hub", key,
                  "unknown key; accepted: broker client_id records append_records logout_on_reconnect "
                  "summary_interval front connects");
        }
    }

    void identity_key(int line, std::string_view section, std::string_view key, std::string_view value, std::string& pk,
                      std::string& dk, std::string& secret) {
        std::string* target = key == "product_key"     ? &pk
                              : key == "device_key"    ? &dk
                              : key == "device_secret" ? &secret
                                                       : nullptr;
        if (target == nullptr) {
            error(line, section, key, "unknown key; accepted: product_key device_key device_secret");
            return;
        }
        if (value.empty()) error(line, section, key, "empty");
        *target = std::string(value);
    }

    void product_key(int line, std::string_view section, std::string_view key, std::string_view value) {
        const auto type = parse_point_type(value);
        if (!type) {
            error(line, section, key,
                  "'" + std::string(value) + "' is not a point type; accepted: number integer string bool array any");
            return;
        }
        result_.products[std::string(section.substr(8))].emplace(std::string(key), *type);
    }

    void device_key(int line, std::string_view section, std::string_view key, std::string_view value) {
        SubDevice& dev = devices_[std::string(section.substr(7))];
        identity_key(line, section, key, value, dev.product_key, dev.device_key, dev.device_secret);
    }

    void faults_key(int line, std::string_view key, std::string_view value) {
        Faults& f = result_.faults;
        if (key == "reply_code") {
            const auto code = parse_integer<int>(value);
            if (!code || *code < 0 || *code == kCodeOk || *code > 99999) {
                error(line, "faults", key,
                      "'" + std::string(value) +
                          "' is not an error code; accepted: 0 (off) or a code such as 1206, 1212, 1008, 500");
            } else {
                f.reply_code = *code;
            }
        } else if (key == "every" || key == "drop_replies") {
            const auto n = parse_integer<std::uint64_t>(value);
            if (!n) {
                error(line, "faults", key,
                      "'" + std::string(value) + "' is not a count; accepted: 0 (off) or a positive integer");
            } else {
                (key == "every" ? f.every : f.drop_replies) = *n;
            }
        } else {
            error(line, "faults", key, "unknown key; accepted: reply_code every drop_replies");
        }
    }

    std::string file_;
    TextStream& stream_;
    std::string current_section_;
    std::set<std::string> seen_sections_;
    std::set<std::string> unknown_sections_;
    std::set<std::pair<std::string, std::string>> seen_keys_;
    std::map<std::string, int> section_lines_;
    std::map<std::string, SubDevice> devices_;  // by section name, in name order
    std::set<std::string> unmodelled_;
    std::vector<std::string> errors_;
    std::vector<std::string> notes_;
    SimConfig sim_;
    HubConfig result_;
};

int on_ini_key(void* user, const char* section, const char* name, const char* value) noexcept {
    if (name == nullptr || value == nullptr) return 1;  // a bare section header (newer inih builds)
    try {
        static_cast<Parser*>(user)->on_key(section, name, value);
        return 1;
    } catch (...) {
        return 0;  // out of memory: inih reports the line as an error
    }
}

}  // namespace

std::optional<BrokerAddress> parse_broker_uri(std::string_view uri) {
    constexpr std::string_view kScheme = "tcp://";
    if (uri.substr(0, kScheme.size()) != kScheme) return std::nullopt;
    const std::string_view rest = uri.substr(kScheme.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const auto port = parse_integer<unsigned>(rest.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) return std::nullopt;
    BrokerAddress address;
    address.host = std::string(rest.substr(0, colon));
    address.port = static_cast<std::uint16_t>(*port);
    return address;
}

ConfigResult parse_config(std::string_view text, std::string_view file_name) {
    TextStream stream{text};
    Parser parser(file_name, stream);
    const int rc = ini_parse_stream(read_line, &stream, on_ini_key, &parser);
    return parser.finish(rc);
}

ConfigResult load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        ConfigResult r;
        r.errors.push_back(path + ": cannot be read");
        return r;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

}  // namespace fieldgate::cloudsim
