# Cross builds for the ARM gateways (included by cmake/toolchain-<arch>.cmake, which set
# FG_TRIPLET and FG_PROCESSOR). The compilers are Debian's crossbuild-essential-<arch>; the
# target's libraries are a library root FG_SYSROOT (default: <build dir>/sysroot) that
# `scripts/deps.sh cross` fills from the :<arch> packages. Tests run under qemu-user.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${FG_PROCESSOR})
set(CMAKE_C_COMPILER ${FG_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${FG_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${FG_TRIPLET})
if(NOT FG_SYSROOT)
  set(FG_SYSROOT ${CMAKE_BINARY_DIR}/sysroot CACHE PATH "the target's library root")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES FG_SYSROOT FG_TRIPLET FG_PROCESSOR)

# Not --sysroot: libc, libstdc++ and their headers are the cross toolchain's own
# (/usr/${FG_TRIPLET}); the root adds the libraries' headers and shared objects.
set(_inc "-isystem ${FG_SYSROOT}/usr/include -isystem ${FG_SYSROOT}/usr/include/${FG_TRIPLET}")
# armhf: GCC notes that the ABI for passing some iterators changed in GCC 7.1; every part here is
# built by GCC 12, so the notes say nothing.
if(FG_PROCESSOR STREQUAL "arm")
  string(APPEND _inc " -Wno-psabi")
endif()
set(CMAKE_C_FLAGS_INIT "${_inc}")
set(CMAKE_CXX_FLAGS_INIT "${_inc}")
set(_link "-L${FG_SYSROOT}/usr/lib/${FG_TRIPLET} -Wl,-rpath-link,${FG_SYSROOT}/usr/lib/${FG_TRIPLET}")
string(APPEND _link " -Wl,-rpath-link,${FG_SYSROOT}/lib/${FG_TRIPLET}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_link}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_link}")

set(CMAKE_FIND_ROOT_PATH ${FG_SYSROOT} /usr/${FG_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${FG_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR} "${FG_SYSROOT}/usr/lib/${FG_TRIPLET}/pkgconfig:${FG_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# ctest runs the unit tests through qemu-user with the root as the target's /.
find_program(FG_QEMU ${FG_QEMU_NAME} REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${FG_QEMU} -L ${FG_SYSROOT})
