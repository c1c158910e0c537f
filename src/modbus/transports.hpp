#pragma once
// Private to src/modbus: the libmodbus-backed transports behind make_transport().
#include <memory>

#include "fieldgate/modbus/transport.hpp"

namespace fieldgate::modbus::detail {

std::unique_ptr<ModbusTransport> make_tcp_transport(const config::Bus& bus);
std::unique_ptr<ModbusTransport> make_rtu_transport(const config::Bus& bus);

}  // namespace fieldgate::modbus::detail
