# Third-party libraries, all from Debian's -dev packages (scripts/deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(MODBUS REQUIRED IMPORTED_TARGET libmodbus)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(JSONCPP REQUIRED IMPORTED_TARGET jsoncpp)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
find_library(PAHO_MQTT3AS paho-mqtt3as REQUIRED)
find_path(PAHO_INCLUDE MQTTAsync.h REQUIRED)

# The daemon loads Paho at run time (mqtt/paho_library.hpp): only its headers here.
# The simulators and benchmarks link it the ordinary way, through fg_paho.
add_library(fg_paho INTERFACE)
target_include_directories(fg_paho SYSTEM INTERFACE ${PAHO_INCLUDE})
target_link_libraries(fg_paho INTERFACE ${PAHO_MQTT3AS})

add_library(fg_deps INTERFACE)
target_include_directories(fg_deps SYSTEM INTERFACE ${PAHO_INCLUDE})
target_link_libraries(fg_deps INTERFACE
  PkgConfig::MODBUS PkgConfig::SQLITE PkgConfig::JSONCPP PkgConfig::SYSTEMD
  ${CMAKE_DL_LIBS} Threads::Threads)
