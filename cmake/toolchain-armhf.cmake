# `make deb ARCH=armhf`: 32-bit ARMv7 gateways with hardware floating point (Debian armhf),
# see cmake/cross.cmake. 64-bit time_t is not Debian 12's armhf ABI: the code must not
# assume sizeof(time_t) == 8 nor sizeof(long) == 8.
set(FG_TRIPLET arm-linux-gnueabihf)
set(FG_PROCESSOR arm)
set(FG_QEMU_NAME qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross.cmake)
