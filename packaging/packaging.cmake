# Installation layout and the Debian package (CPack DEB): `make deb` builds
# build/fieldgate_<version>_<arch>.deb. Paths follow DESIGN.md "Files and layout".
include(GNUInstallDirs)

install(TARGETS fieldgated RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS fieldgatectl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/conf/fieldgate.ini DESTINATION /etc/fieldgate)
install(DIRECTORY DESTINATION /etc/fieldgate/conf.d)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/fieldgate.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/fieldgate.sysusers DESTINATION /usr/lib/sysusers.d
        RENAME fieldgate.conf)
install(FILES ${CMAKE_SOURCE_DIR}/docs/fieldgated.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_SOURCE_DIR}/docs/fieldgatectl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fieldgate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "fieldgate developers <dev@fieldgate.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edge gateway: Modbus devices to the EnOS IoT Hub, with a durable buffer")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Paho is loaded at run time (dlopen), which dpkg-shlibdeps cannot see.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libpaho-mqtt1.3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
