# The module graph of DESIGN.md ("Module map"): one static library per module, fg_<module>,
# linked PRIVATE along the arrows below and nowhere else. A module may include the headers of
# itself and of the modules it points to, no other (scripts/check_modules.py reads this file
# and `make lint` fails on an include against the arrows). C libraries belong to one module
# each (FG_MODULE_CLIBS_*): their headers (sqlite3.h, MQTTAsync.h, json/json.h, ...) appear in
# that module's sources, and in a public header only if no other module includes that header.
#
# FG_MODULE_DEPS_<m>: the modules <m> uses (the arrows).
set(FG_MODULES util config modbus store enos mqtt uplink daemon)
set(FG_MODULE_DEPS_util "")
set(FG_MODULE_DEPS_config util)
set(FG_MODULE_DEPS_modbus config util)
set(FG_MODULE_DEPS_store config util)
set(FG_MODULE_DEPS_enos util)
set(FG_MODULE_DEPS_mqtt util)
set(FG_MODULE_DEPS_uplink config enos mqtt store util)
set(FG_MODULE_DEPS_daemon config enos modbus mqtt store uplink util)
# FG_MODULE_CLIBS_<m>: the C libraries <m> links (CMake targets), PRIVATE.
set(FG_MODULE_CLIBS_util ${CMAKE_DL_LIBS} Threads::Threads)
set(FG_MODULE_CLIBS_config "")
set(FG_MODULE_CLIBS_modbus PkgConfig::MODBUS Threads::Threads)
set(FG_MODULE_CLIBS_store PkgConfig::SQLITE)
set(FG_MODULE_CLIBS_enos PkgConfig::JSONCPP)
set(FG_MODULE_CLIBS_mqtt fg_paho_headers ${CMAKE_DL_LIBS} Threads::Threads)
set(FG_MODULE_CLIBS_uplink "")
set(FG_MODULE_CLIBS_daemon PkgConfig::JSONCPP PkgConfig::SYSTEMD Threads::Threads)

# Paho's headers only: the daemon loads the library at run time (mqtt/paho_library.hpp).
add_library(fg_paho_headers INTERFACE)
target_include_directories(fg_paho_headers SYSTEM INTERFACE ${PAHO_INCLUDE})

foreach(m IN LISTS FG_MODULES)
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${m}/*.cpp)
  list(FILTER _srcs EXCLUDE REGEX ".*/src/daemon/main\\.cpp$")
  add_library(fg_${m} STATIC ${_srcs})
  target_include_directories(fg_${m} PUBLIC ${CMAKE_SOURCE_DIR}/include)
  target_compile_definitions(fg_${m} PUBLIC FIELDGATE_VERSION="${PROJECT_VERSION}")
  set(_deps)
  foreach(d IN LISTS FG_MODULE_DEPS_${m})
    list(APPEND _deps fg_${d})
  endforeach()
  target_link_libraries(fg_${m} PRIVATE ${_deps} ${FG_MODULE_CLIBS_${m}} fg_warnings fg_sanitizers)
endforeach()

# Everything at once, for the programs, the tools, the tests and the benchmarks (which also use
# the C libraries directly: the cloud simulator jsoncpp, the benchmarks SQLite).
add_library(fieldgate_core INTERFACE)
foreach(m IN LISTS FG_MODULES)
  target_link_libraries(fieldgate_core INTERFACE fg_${m})
endforeach()
target_link_libraries(fieldgate_core INTERFACE fg_deps)
