# What `make install` (cmake --install) puts under the prefix. Two
# components, which make deb turns into the two Debian packages:
#   runtime  what a preloaded or linked program and the tool need at run
#            time: libtidemalloc.so.0, libtidemalloc-secure.so.0,
#            libtidemalloc-secure-full.so.0, tide, the
#            glibc shim, tide(1)
#   dev      what building against tidemalloc needs: tidemalloc.h, the .so
#            links, libtidemalloc.a, tidemalloc.pc, the CMake package,
#            tidemalloc(3)
# Every path is relative to the prefix chosen at install time (--prefix,
# make install PREFIX=...), and DESTDIR is honoured by CMake itself.
include(CMakePackageConfigHelpers)

set(TIDE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/tidemalloc)

install(TARGETS tidemalloc tidemalloc_secure tidemalloc_secure_full EXPORT tidemalloc-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(TARGETS tidemalloc_static EXPORT tidemalloc-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/include/tidemalloc.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)

install(TARGETS tide RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(TARGETS tide_glibc_shim LIBRARY DESTINATION ${TIDE_INSTALL_SHIMDIR} COMPONENT runtime)

install(FILES ${PROJECT_SOURCE_DIR}/docs/man/tide.1
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/tidemalloc.3
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man3 COMPONENT dev)

# find_package(tidemalloc): tidemalloc::tidemalloc (the shared library),
# tidemalloc::static (the archive), tidemalloc::secure (the hardened
# production level), tidemalloc::secure_full (its debugging level).
set_target_properties(tidemalloc_static PROPERTIES EXPORT_NAME static)
set_target_properties(tidemalloc_secure PROPERTIES EXPORT_NAME secure)
set_target_properties(tidemalloc_secure_full PROPERTIES EXPORT_NAME secure_full)
install(EXPORT tidemalloc-targets NAMESPACE tidemalloc:: FILE tidemalloc-targets.cmake
  DESTINATION ${TIDE_INSTALL_CMAKEDIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tidemalloc-config.cmake.in
  ${PROJECT_BINARY_DIR}/tidemalloc-config.cmake INSTALL_DESTINATION ${TIDE_INSTALL_CMAKEDIR})
# Semantic versioning's 0.x rule: before 1.0 a minor release may change the
# API, so find_package(tidemalloc 0.1) accepts 0.1.x only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tidemalloc-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tidemalloc-config.cmake
              ${PROJECT_BINARY_DIR}/tidemalloc-config-version.cmake
  DESTINATION ${TIDE_INSTALL_CMAKEDIR} COMPONENT dev)

# tidemalloc.pc names its prefix, and the prefix is known only at install
# time (cmake --install --prefix), so the file is written then.
if(IS_ABSOLUTE ${CMAKE_INSTALL_LIBDIR})
  set(TIDE_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
  set(TIDE_PC_DEST ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
else()
  set(TIDE_PC_LIBDIR "\\\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(TIDE_PC_DEST "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
if(IS_ABSOLUTE ${CMAKE_INSTALL_INCLUDEDIR})
  set(TIDE_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
else()
  set(TIDE_PC_INCLUDEDIR "\\\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
install(CODE "
  set(TIDE_PC_VERSION \"${PROJECT_VERSION}\")
  set(TIDE_PC_LIBDIR \"${TIDE_PC_LIBDIR}\")
  set(TIDE_PC_INCLUDEDIR \"${TIDE_PC_INCLUDEDIR}\")
  set(TIDE_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/cmake/tidemalloc.pc.in\"
                 \"${PROJECT_BINARY_DIR}/tidemalloc.pc\" @ONLY)
  file(INSTALL \"${PROJECT_BINARY_DIR}/tidemalloc.pc\"
       DESTINATION \"${TIDE_PC_DEST}\")
" COMPONENT dev)

# make uninstall: remove what the last install of this build directory
# wrote (install_manifest.txt), nothing else.
add_custom_target(uninstall
  COMMAND ${CMAKE_COMMAND} -DMANIFEST=${PROJECT_BINARY_DIR}/install_manifest.txt
          -P ${PROJECT_SOURCE_DIR}/cmake/uninstall.cmake
  VERBATIM)
