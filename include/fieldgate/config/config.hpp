#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fieldgate::config {

/// Modbus tables. Register tables hold 16-bit words; bit tables hold single bits.
enum class Table { Holding, Input, Coil, Discrete };

/// Value types of the point grammar. String is string[N] (N registers, two chars each).
enum class ValueType { Bool, Int16, Uint16, Int32, Uint32, Int64, Uint64, Float32, Float64, String };

/// Byte/word order of multi-register values, named after the bytes' positions on the wire for
/// a 32-bit value whose big-endian bytes are A B C D. 64-bit values extend the same pattern.
/// int16/uint16 accept only ABCD and BADC (the register's two bytes swapped); see point_grammar.hpp.
enum class ByteOrder { ABCD, CDAB, BADC, DCBA };

/// One measurepoint of a model: `<id> = <table>:<address> <type> [order] [scale=F] [offset=F]
/// [bit=N] [quality] [as=string]`.
struct Point {
    std::string id;
    Table table = Table::Holding;
    std::uint16_t address = 0;  ///< 0-based protocol address
    ValueType type = ValueType::Uint16;
    std::uint16_t count = 1;          ///< array length TYPE[N]; 1 for scalars
    bool is_array = false;            ///< TYPE[N] given (even N=1 is written as a JSON array)
    std::uint16_t string_length = 0;  ///< N of string[N], in registers
    ByteOrder order = ByteOrder::ABCD;
    std::optional<double> scale;  ///< value * scale + offset when either is given
    std::optional<double> offset;
    std::optional<std::uint8_t> bit;  ///< bit=N of a register value (0..15)
    bool quality = false;             ///< wrap as {"value": v, "quality": q}
    bool as_string = false;           ///< write the number's text as a JSON string
    bool writable = false;            ///< the cloud may set it (holding: FC6/FC16, coil: FC5/FC15)
    int line = 0;                     ///< where it was defined, for messages

    /// Registers (or bits, for coil/discrete) one element occupies: 1 for bits, 16-bit types and
    /// bit=N; 2 for 32-bit, 4 for 64-bit types; N for string[N]. The one width rule: config
    /// validation, the request planner and the decoder all use it.
    std::uint32_t element_width() const {
        if (table == Table::Coil || table == Table::Discrete) return 1;
        switch (type) {
            case ValueType::Int32:
            case ValueType::Uint32:
            case ValueType::Float32:
                return 2;
            case ValueType::Int64:
            case ValueType::Uint64:
            case ValueType::Float64:
                return 4;
            case ValueType::String:
                return string_length;
            default:
                return 1;
        }
    }
    /// Registers (or bits, for coil/discrete) the point occupies: element_width() * count.
    std::uint32_t width() const { return element_width() * count; }
};

struct Model {
    std::string name;
    std::vector<Point> points;  ///< in file order
};

struct Gateway {
    std::string product_key;
    std::string device_key;
    std::string device_secret;       ///< inline or read from device_secret_file
    std::string device_secret_file;  ///< empty when given inline
    std::string control_socket = "/run/fieldgate/control.sock";
};

struct Mqtt {
    std::string uri;  ///< tcp://host:port or ssl://host:port
    std::int64_t keepalive_ms = 60'000;
    /// From starting a connection to its CONNACK (TCP, TLS and the MQTT CONNECT together).
    std::int64_t connect_timeout_ms = 30'000;
    std::string ca_file;  ///< empty: the system store (kSystemCaFile)
    std::string cert_file;
    std::string key_file;
};

enum class Overflow { DropOldest, DropNewest };
enum class Durability { Normal, Full };

struct Store {
    std::string path = "/var/lib/fieldgate/buffer.db";
    std::uint64_t max_bytes = 1ULL << 30;
    std::int64_t max_age_ms = 30LL * 86'400'000;
    Overflow overflow = Overflow::DropOldest;
    std::int64_t commit_interval_ms = 1000;
    Durability durability = Durability::Normal;
};

enum class AllowOffline { Auto, True, False };

struct Uplink {
    std::uint32_t batch_max_records = 1000;
    std::uint64_t batch_max_bytes = 256ULL * 1024;
    std::uint32_t inflight = 8;
    std::int64_t reply_timeout_ms = 30'000;
    std::int64_t resume_after_ms = 5LL * 60'000;
    std::int64_t retry_min_ms = 1000;
    std::int64_t retry_max_ms = 5LL * 60'000;
    AllowOffline allow_offline_subdevice = AllowOffline::Auto;
    bool skip_invalid_measurepoints = false;
};

enum class BusType { Rtu, Tcp };
enum class Parity { None, Even, Odd };
/// How libmodbus drives RTS around a request: not at all, high while sending, low while sending.
enum class Rts { None, Up, Down };

struct Bus {
    std::string name;  ///< the part after "bus."; for a device's own tcp://host:port, that URI
    BusType type = BusType::Tcp;
    // rtu
    std::string device;
    std::uint32_t baud = 9600;
    Parity parity = Parity::None;
    std::uint8_t data_bits = 8;
    std::uint8_t stop_bits = 1;
    std::int64_t frame_gap_ms = 5;  ///< silence kept between the end of one exchange and the next request
    bool rs485 = false;             ///< put the port in kernel RS-485 mode (TIOCSRS485)
    Rts rts = Rts::None;
    std::optional<std::int64_t> rts_delay_us;  ///< with rts; unset: one character time (libmodbus's default)
    // tcp
    std::string host;
    std::uint16_t port = 502;
    // both
    std::int64_t timeout_ms = 1000;  ///< response timeout per request (rtu default 500ms)
    int line = 0;
};

struct Device {
    std::string name;         ///< the part after "device."
    std::string product_key;  ///< empty (with device_key) = the gateway itself
    std::string device_key;
    std::string device_secret;
    std::string device_secret_file;
    std::string model;  ///< a key of Config::models
    std::string bus;    ///< a key of Config::buses (inline tcp:// buses are added there)
    std::uint8_t unit_id = 1;
    std::int64_t interval_ms = 1000;
    std::optional<std::int64_t> timeout_ms;  ///< overrides the bus's
    std::uint32_t offline_after = 3;
    std::int64_t probe_max_ms = 30'000;
    /// Least time between the starts of two cloud or fieldgatectl writes to the device (a
    /// runaway script cannot hammer a breaker); a set that comes sooner is refused with 503.
    std::int64_t write_interval_ms = 200;
    int line = 0;

    bool is_gateway() const { return product_key.empty() && device_key.empty(); }
};

/// The whole validated configuration.
struct Config {
    std::string path;  ///< the main file
    Gateway gateway;
    Mqtt mqtt;
    Store store;
    Uplink uplink;
    std::map<std::string, Bus> buses;
    std::map<std::string, Model> models;
    std::vector<Device> devices;  ///< in file order

    const Bus& bus_of(const Device& d) const { return buses.at(d.bus); }
    const Model& model_of(const Device& d) const { return models.at(d.model); }
    std::int64_t timeout_of(const Device& d) const { return d.timeout_ms.value_or(bus_of(d).timeout_ms); }
};

/// The outcome of loading: a config when there was no error, and every problem found, each
/// formatted `FILE:LINE: [SECTION] KEY: what is wrong; what is accepted`.
struct LoadResult {
    std::optional<Config> config;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;  ///< e.g. a secret file readable by others
};

/// Reads `path`, then every `*.ini` in the `conf.d/` folder beside it in name order, and
/// validates the whole. Never throws for bad input; I/O problems are errors too.
LoadResult load(const std::string& path);

/// The control socket the configuration at `path` names ([gateway] control_socket, else the
/// default), read leniently: fieldgatectl must reach a running daemon even while the files on
/// disk hold an error (an engineer half-way through an edit).
std::string find_control_socket(const std::string& path);

/// Same, from in-memory files (name, text) in order; for tests. Secret files are still read
/// from disk when named.
LoadResult load_texts(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace fieldgate::config
