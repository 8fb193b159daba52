# Installing cairn as a server, and its Debian package (cpack -G DEB in a build directory):
# the tools (installed by tools/*/CMakeLists.txt), a commented configuration with every
# cairn-server option at its default, a systemd unit and the maintainer scripts that make the
# cairn user and its data directory. Build the package with -DCMAKE_INSTALL_PREFIX=/usr, so that
# the configuration lands in /etc and the data in /var/lib (GNUInstallDirs' rules for /usr).
include(GNUInstallDirs)

set(CAIRN_CONFIG_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/cairn)
set(CAIRN_CONFIG_FILE ${CAIRN_CONFIG_DIR}/cairn.toml)
set(CAIRN_DATA_DIR ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/cairn)
set(CAIRN_DOC_DIR ${CMAKE_INSTALL_FULL_DOCDIR})
set(CAIRN_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING
    "Where cairn.service is installed, under the install prefix")

set(CAIRN_PACKAGING_OUT ${CMAKE_BINARY_DIR}/packaging)
configure_file(packaging/cairn.toml.in ${CAIRN_PACKAGING_OUT}/cairn.toml @ONLY)
configure_file(packaging/cairn.service.in ${CAIRN_PACKAGING_OUT}/cairn.service @ONLY)
foreach(script postinst prerm postrm conffiles)
  configure_file(packaging/debian/${script}.in ${CAIRN_PACKAGING_OUT}/debian/${script} @ONLY)
endforeach()
file(CHMOD ${CAIRN_PACKAGING_OUT}/debian/postinst ${CAIRN_PACKAGING_OUT}/debian/prerm
     ${CAIRN_PACKAGING_OUT}/debian/postrm
     PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                 WORLD_EXECUTE)

install(FILES ${CAIRN_PACKAGING_OUT}/cairn.toml DESTINATION ${CAIRN_CONFIG_DIR})
install(FILES ${CAIRN_PACKAGING_OUT}/cairn.service DESTINATION ${CAIRN_SYSTEMD_UNIT_DIR})
install(FILES README.md docs/tools.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME cairn)
set(CPACK_PACKAGE_VENDOR "cairn")
set(CPACK_PACKAGE_CONTACT "cairn maintainers <maintainers@cairn.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "strongly consistent distributed in-memory cache (Raft, Redis protocol)")
set(CPACK_PACKAGE_DESCRIPTION
    "cairn-server replicates writes with Raft, serves linearizable reads from any node, and speaks the Redis protocol. This package holds cairn-server, cairn-cli, cairn-bench, cairn-data, the C++ client library, a default configuration and a systemd unit.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # cairn_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # library dependencies from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CAIRN_PACKAGING_OUT}/debian/postinst ${CAIRN_PACKAGING_OUT}/debian/prerm
    ${CAIRN_PACKAGING_OUT}/debian/postrm ${CAIRN_PACKAGING_OUT}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
