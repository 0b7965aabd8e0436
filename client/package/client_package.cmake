# The C++ client library as agencies install it: libcir-client.so (the client and the contract's
# generated messages, exporting only the cir:: API), its public headers, cirConfig.cmake with the
# exported target cir::client and its version file, and cir.pc for pkg-config.
#
#   cmake --install build --component client-dev     (with the runtime: --component client)
#
# Built only in the plain build: the sanitizer and fuzz builds test the same code linked
# statically (cir_client).
if(NOT CIR_SANITIZE STREQUAL "" OR CIR_FUZZ)
  return()
endif()

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CIR_CONTRACT_SOURCES
  ${CIR_GENERATED_DIR}/cir/v1/registry.pb.cc
  ${CIR_GENERATED_DIR}/cir/v1/registry.grpc.pb.cc)
set_source_files_properties(${CIR_CONTRACT_SOURCES} PROPERTIES COMPILE_OPTIONS -w)

add_library(cir_client_shared SHARED client/client.cc ${CIR_CLIENT_WIRE_SOURCES}
  ${CIR_CONTRACT_SOURCES})
add_library(cir::client ALIAS cir_client_shared)
set_target_properties(cir_client_shared PROPERTIES
  OUTPUT_NAME cir-client
  EXPORT_NAME client
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/client/package/libcir-client.map)
target_link_options(cir_client_shared PRIVATE
  -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/client/package/libcir-client.map
  -Wl,--no-undefined)
target_include_directories(cir_client_shared
  PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/client/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_include_directories(cir_client_shared SYSTEM PUBLIC $<BUILD_INTERFACE:${CIR_GENERATED_DIR}>)
target_compile_features(cir_client_shared PUBLIC cxx_std_17)
target_link_libraries(cir_client_shared
  PUBLIC protobuf::libprotobuf absl::status absl::statusor absl::strings absl::time
    absl::any_invocable
  PRIVATE gRPC::grpc++ absl::str_format)

install(TARGETS cir_client_shared EXPORT cirTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT client NAMELINK_COMPONENT client-dev)
install(FILES client/include/cir/client.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cir COMPONENT client-dev)
install(FILES ${CIR_GENERATED_DIR}/cir/v1/registry.pb.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cir/v1 COMPONENT client-dev)
# The contract itself, for agencies generating code in other languages.
install(FILES proto/cir/v1/registry.proto
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cir/proto/cir/v1 COMPONENT client-dev)

set(CIR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cir)
install(EXPORT cirTargets NAMESPACE cir:: DESTINATION ${CIR_CMAKE_DIR} COMPONENT client-dev)
configure_package_config_file(client/package/cirConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/package/cirConfig.cmake INSTALL_DESTINATION ${CIR_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/package/cirConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/package/cirConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/package/cirConfigVersion.cmake
  DESTINATION ${CIR_CMAKE_DIR} COMPONENT client-dev)

# cir.pc finds the prefix from where it is installed (${pcfiledir}), so that an install with
# `cmake --install --prefix` anywhere is found as it is.
file(RELATIVE_PATH CIR_PC_PREFIX_FROM_PCFILEDIR
  /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(client/package/cir.pc.in ${CMAKE_CURRENT_BINARY_DIR}/package/cir.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/package/cir.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT client-dev)
