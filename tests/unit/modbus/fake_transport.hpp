#pragma once
// A scripted ModbusTransport for unit tests: each read() takes the next step of the script.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/transport.hpp"

namespace fieldgate::modbus::test {

struct Step {
    Result result;
    std::vector<std::uint16_t> registers;  ///< served on Ok (register tables); else the block reads 0..n-1
    bool block_until_interrupted = false;  ///< hang like a silent device until interrupt()
};

/// Every call is recorded in `log` as text: "open", "read u1 h0+4", "write u1 h10+2", "flush",
/// "close". Writes that succeed land in `memory`, which later reads of those addresses return.
class FakeTransport final : public ModbusTransport {
public:
    std::deque<Step> script;  ///< empty: every read is Ok
    std::vector<std::string> log;
    bool open_ = false;
    Result open_result;
    bool interrupted = false;
    std::map<std::pair<config::Table, std::uint32_t>, std::uint16_t> memory;
    bool ignore_writes = false;  ///< acknowledge writes but keep the old values (a read-only register)
    /// A unit listed here takes its steps from a script of its own, whose last step repeats (a
    /// gateway with a dead or refused slave behind it); `script` is left for the other units.
    std::map<std::uint8_t, std::deque<Step>> unit_script;

    Result open() override {
        log.emplace_back("open");
        if (open_result.ok()) open_ = true;
        return open_result;
    }
    bool is_open() const override { return open_; }
    void close() override {
        log.emplace_back("close");
        open_ = false;
    }
    Result read(std::uint8_t unit, const ReadBlock& block, std::int64_t, BlockData& out) override {
        const char table = block.table == config::Table::Holding ? 'h'
                           : block.table == config::Table::Input ? 'i'
                           : block.table == config::Table::Coil  ? 'c'
                                                                 : 'd';
        log.push_back("read u" + std::to_string(unit) + " " + table + std::to_string(block.start) + "+" +
                      std::to_string(block.count));
        Step step;
        if (const auto own = unit_script.find(unit); own != unit_script.end() && !own->second.empty()) {
            step = own->second.front();
            if (own->second.size() > 1) own->second.pop_front();
        } else if (!script.empty()) {
            step = script.front();
            script.pop_front();
        }
        if (step.block_until_interrupted) {
            std::unique_lock<std::mutex> lock(mutex_);
            reading_ = true;
            changed_.notify_all();
            changed_.wait(lock, [this] { return interrupted; });
            return Result{Outcome::Stopped, 0, "stopping"};
        }
        if (step.result.outcome == Outcome::Closed) open_ = false;
        if (!step.result.ok()) return step.result;
        const bool bits = block.table == config::Table::Coil || block.table == config::Table::Discrete;
        if (bits) {
            out.bits.assign(block.count, 1);
        } else if (!step.registers.empty()) {
            out.registers = step.registers;
            out.registers.resize(block.count);
        } else {
            out.registers.resize(block.count);
            for (std::uint16_t i = 0; i < block.count; ++i)
                out.registers[i] = static_cast<std::uint16_t>(block.start + i);
        }
        for (std::uint16_t i = 0; i < block.count; ++i) {
            const auto it = memory.find({block.table, std::uint32_t{block.start} + i});
            if (it == memory.end()) continue;
            if (bits)
                out.bits[i] = static_cast<std::uint8_t>(it->second);
            else
                out.registers[i] = it->second;
        }
        return step.result;
    }
    Result write(std::uint8_t unit, config::Table table, std::uint16_t address, const EncodedWrite& data,
                 std::int64_t) override {
        const bool bits = table == config::Table::Coil;
        const std::size_t n = bits ? data.bits.size() : data.registers.size();
        log.push_back("write u" + std::to_string(unit) + " " + (bits ? 'c' : 'h') + std::to_string(address) + "+" +
                      std::to_string(n));
        Step step;
        if (!script.empty()) {
            step = script.front();
            script.pop_front();
        }
        if (step.result.outcome == Outcome::Closed) open_ = false;
        if (!step.result.ok() || ignore_writes) return step.result;
        for (std::size_t i = 0; i < n; ++i)
            memory[{table, address + static_cast<std::uint32_t>(i)}] = bits ? data.bits[i] : data.registers[i];
        return step.result;
    }
    void flush() override { log.emplace_back("flush"); }
    void interrupt() override {
        std::lock_guard<std::mutex> lock(mutex_);
        interrupted = true;
        changed_.notify_all();
    }

    /// Waits (at most 10 s) until a read blocks in the script's block_until_interrupted step.
    bool wait_reading() {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(10), [this] { return reading_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool reading_ = false;
};

/// A script step whose call ends with `o` (an exception code and detail as a device gives them).
inline Step fails(Outcome o, std::uint8_t code = 0, const char* detail = "") {
    Step s;
    s.result = Result{o, code, detail};
    return s;
}

/// The calls a FakeTransport saw, as one line: "read u1 h0+4, flush".
inline std::string joined(const std::vector<std::string>& calls) {
    std::string out;
    for (const auto& c : calls)
        out += (out.empty() ? "" : ", ") + c;
    return out;
}

}  // namespace fieldgate::modbus::test
