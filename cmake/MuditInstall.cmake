# install() of the libraries, headers, CLI and an exported CMake package:
#   find_package(mudit) then target_link_libraries(app PRIVATE mudit::mudit)   (or mudit::core)
include(CMakePackageConfigHelpers)

set(MUDIT_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/mudit")

install(DIRECTORY include/mudit DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES "${MUDIT_GENERATED_INCLUDE}/mudit/core/version.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mudit/core")

install(EXPORT muditTargets NAMESPACE mudit:: DESTINATION "${MUDIT_CMAKE_DIR}")

configure_package_config_file(cmake/muditConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/muditConfig.cmake"
  INSTALL_DESTINATION "${MUDIT_CMAKE_DIR}")
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/muditConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/muditConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/muditConfigVersion.cmake"
  cmake/MuditTorch.cmake
  cmake/MuditDeps.cmake
  DESTINATION "${MUDIT_CMAKE_DIR}")
