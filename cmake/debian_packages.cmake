# The registry's Debian packages, made by CPack from the install components (scripts/package):
#
#   libcir-client0      component client       the client library agencies' programs run with
#   libcir-client-dev   component client-dev   its headers, cirConfig.cmake, cir.pc, the contract
#   cir-cli             component cli          the `cir` command-line tool, its man page and bash
#                                              completion
#   cir-server          component server       the server, cir-admin, its systemd unit and settings
#
# Each package's dependencies on Debian's libraries come from dpkg-shlibdeps (the libraries its
# binaries need); the -dev package needs the headers its headers include (protobuf, Abseil).
# Files are stripped: the build tree keeps the debugging information.
#
# Made only by the plain build (the sanitizer and fuzz builds install nothing).
if(NOT CIR_SANITIZE STREQUAL "" OR CIR_FUZZ)
  return()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cir)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Child Identifier Registry")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Child Identifier Registry")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL client client-dev cli server)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Child Identifier Registry <registry@registry.local>")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Packages of this build depend on each other at exactly this version.
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
# gzip: the packages are made in every test run, and xz takes several times as long.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)

set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME libcir-client0)
set(CPACK_DEBIAN_CLIENT_PACKAGE_SECTION libs)
# A shlibs file for the programs built against libcir-client0 (the only package holding a shared
# library; CPack takes this setting for every package at once), and ldconfig run on its install.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_COMPONENT_CLIENT_DESCRIPTION
  "Child Identifier Registry client library\n The C++ library an agency's program uses to register births and resolve children's\n identifiers with the Child Identifier Registry over mutual TLS.")

set(CPACK_DEBIAN_CLIENT-DEV_PACKAGE_NAME libcir-client-dev)
set(CPACK_DEBIAN_CLIENT-DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_CLIENT-DEV_PACKAGE_DEPENDS "libprotobuf-dev, libabsl-dev")
set(CPACK_COMPONENT_CLIENT-DEV_DEPENDS client)
set(CPACK_COMPONENT_CLIENT-DEV_DESCRIPTION
  "Child Identifier Registry client library: development files\n Headers, the CMake package (find_package(cir), target cir::client), cir.pc for\n pkg-config, and the registry's contract (registry.proto).")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME cir-cli)
set(CPACK_COMPONENT_CLI_DESCRIPTION
  "Child Identifier Registry command-line tool\n `cir`: register births (one at a time or a CSV file of them), resolve and link\n identifiers, record life events, follow a local authority's feed and verify the audit\n log, from a shell; with its manual page (man cir) and bash completion.")

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME cir-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser, openssl, util-linux")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
  ${CMAKE_CURRENT_SOURCE_DIR}/server/package/postinst
  ${CMAKE_CURRENT_SOURCE_DIR}/server/package/prerm
  ${CMAKE_CURRENT_SOURCE_DIR}/server/package/postrm
  ${CMAKE_CURRENT_SOURCE_DIR}/server/package/conffiles)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_COMPONENT_SERVER_DESCRIPTION
  "Child Identifier Registry server\n The registry's gRPC server over an embedded, encrypted RocksDB store, run by systemd as\n its own user, with cir-admin for backups and restores.")

include(CPack)
