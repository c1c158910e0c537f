#pragma once
#include <cstdint>

namespace fieldgate::util {

/// Sets TCP_NODELAY on one socket; false when the kernel refused (errno set). Never throws.
bool set_tcp_nodelay(int fd) noexcept;

/// Sets TCP_NODELAY on every TCP socket of this process whose peer port is `peer_port`, and
/// returns how many it set. Paho C 1.3 leaves Nagle on and has no option for it (paho.mqtt.c
/// #530): a small request then waits ~90 ms for the broker's delayed ACK (ENOS-PROTOCOL.md). Its
/// socket is found through /proc/self/fd; the daemon and the cloud simulator both call this
/// right after each CONNACK, when the socket is fresh. Never throws.
int set_tcp_nodelay_to_port(std::uint16_t peer_port) noexcept;

}  // namespace fieldgate::util
