# `make deb ARCH=arm64`: 64-bit ARM gateways (Debian arm64), see cmake/cross.cmake.
set(FG_TRIPLET aarch64-linux-gnu)
set(FG_PROCESSOR aarch64)
set(FG_QEMU_NAME qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross.cmake)
