# Installation layout and the Debian packages (CPack DEB, one package per component):
# `make deb` builds fieldgate_<version>_<arch>.deb (daemon, tool, unit, configuration, man pages)
# and fieldgate-tools_<version>_<arch>.deb (the simulators) in the build folder.
# Paths follow DESIGN.md "Files and layout". Cross builds (cmake/toolchain-<arch>.cmake) package
# for the target architecture; `make deb ARCH=...` points dpkg-shlibdeps at the target's
# library root.
include(GNUInstallDirs)
set(FG_DOC ${CMAKE_INSTALL_DATADIR}/doc)

# Man pages and the changelog ship compressed, reproducibly (gzip -n: no name, no time stamp).
set(FG_PKG_GZ)
foreach(src docs/fieldgated.8 docs/fieldgatectl.1 docs/fieldgate.ini.5 packaging/debian/changelog)
  get_filename_component(_name ${src} NAME)
  set(_out ${CMAKE_BINARY_DIR}/packaging/${_name}.gz)
  add_custom_command(OUTPUT ${_out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
    COMMAND gzip -9n -c ${CMAKE_SOURCE_DIR}/${src} > ${_out}
    DEPENDS ${CMAKE_SOURCE_DIR}/${src} VERBATIM)
  list(APPEND FG_PKG_GZ ${_out})
endforeach()
add_custom_target(fieldgate_package_docs ALL DEPENDS ${FG_PKG_GZ})
set(_gz ${CMAKE_BINARY_DIR}/packaging)

# fieldgate: the daemon and everything a gateway runs.
install(TARGETS fieldgated RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT daemon)
install(TARGETS fieldgatectl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT daemon)
install(FILES ${CMAKE_SOURCE_DIR}/conf/fieldgate.ini DESTINATION /etc/fieldgate COMPONENT daemon)
install(DIRECTORY DESTINATION /etc/fieldgate/conf.d COMPONENT daemon)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/fieldgate.service DESTINATION /lib/systemd/system COMPONENT daemon)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/fieldgate.sysusers DESTINATION /usr/lib/sysusers.d
        RENAME fieldgate.conf COMPONENT daemon)
install(FILES ${_gz}/fieldgated.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT daemon)
install(FILES ${_gz}/fieldgatectl.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT daemon)
install(FILES ${_gz}/fieldgate.ini.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5 COMPONENT daemon)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/copyright DESTINATION ${FG_DOC}/fieldgate COMPONENT daemon)
install(FILES ${_gz}/changelog.gz DESTINATION ${FG_DOC}/fieldgate COMPONENT daemon)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/fieldgate.lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME fieldgate COMPONENT daemon)

# fieldgate-tools: the simulators, for commissioning and tests; never needed on a gateway.
install(TARGETS fieldgate-modbus-sim fieldgate-cloud-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT tools)
install(FILES ${CMAKE_SOURCE_DIR}/tools/modbus-sim/README.md DESTINATION ${FG_DOC}/fieldgate-tools
        RENAME README.modbus-sim.md COMPONENT tools)
install(FILES ${CMAKE_SOURCE_DIR}/tools/cloud-sim/README.md DESTINATION ${FG_DOC}/fieldgate-tools
        RENAME README.cloud-sim.md COMPONENT tools)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/copyright DESTINATION ${FG_DOC}/fieldgate-tools COMPONENT tools)
install(FILES ${_gz}/changelog.gz DESTINATION ${FG_DOC}/fieldgate-tools COMPONENT tools)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/fieldgate-tools.lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME fieldgate-tools COMPONENT tools)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fieldgate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "fieldgate developers <dev@fieldgate.invalid>")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL daemon tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://fieldgate.invalid/")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
if(CMAKE_CROSSCOMPILING)
  if(CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
  elseif(CMAKE_SYSTEM_PROCESSOR STREQUAL "arm")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE armhf)
  endif()
  # dpkg-shlibdeps finds the target's libraries in the library root (its dpkg database is
  # FG_SYSROOT/var/lib/dpkg, which `make deb ARCH=` passes as DPKG_ADMINDIR).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
      ${FG_SYSROOT}/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} ${FG_SYSROOT}/lib/${CMAKE_LIBRARY_ARCHITECTURE})
endif()

set(CPACK_DEBIAN_DAEMON_PACKAGE_NAME fieldgate)
set(CPACK_DEBIAN_DAEMON_PACKAGE_SECTION net)
# dpkg-shlibdeps adds the libraries the programs link. Paho and libssl are loaded at run time
# (dlopen: mqtt/paho_library, util/openssl_library), which it cannot see: 1.3.0 and 3.0.0 are the
# oldest versions with every symbol the daemon binds (the libraries' symbols files).
# adduser and deb-systemd-helper serve the maintainer scripts.
set(CPACK_DEBIAN_DAEMON_PACKAGE_DEPENDS
    "adduser, init-system-helpers (>= 1.54~), libpaho-mqtt1.3 (>= 1.3.0), libssl3 (>= 3.0.0)")
set(CPACK_DEBIAN_DAEMON_PACKAGE_SUGGESTS "fieldgate-tools")
set(CPACK_DEBIAN_DAEMON_DESCRIPTION
"edge gateway: Modbus devices to the EnOS IoT Hub, with a durable buffer
fieldgated polls meters, inverters and PLCs over Modbus TCP and RTU, stamps
every reading with its acquisition time and keeps it in an SQLite buffer
until the EnOS IoT Hub has confirmed it. It uploads batches over MQTT under
the gateway's identity, so a broker outage, a lost reply or a restart costs
a resend, never a reading.

The package holds the daemon, its hardened systemd unit (Type=notify with a
watchdog), the configuration in /etc/fieldgate/ and the fieldgatectl status
tool. The service runs as the system user fieldgate, in group dialout.")
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME fieldgate-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION
"simulators for testing fieldgate gateways
fieldgate-modbus-sim serves simulated Modbus TCP devices whose register values
follow known formulas; fieldgate-cloud-sim plays the EnOS IoT Hub on an MQTT
broker, validates the gateway's batches, replies as the hub does and records
what it accepted.

They are for commissioning and testing; a gateway needs only the fieldgate
package.")
include(CPack)
