# make uninstall: remove exactly what the install listed in MANIFEST wrote
# (CMake's install_manifest.txt: the paths under the prefix, without DESTDIR,
# so pass the same DESTDIR as to the install), then the directories that
# were tidemalloc's own (named tidemalloc) once empty. Shared directories
# (lib, include, share/man/man3, ...) stay.
#
#   [DESTDIR=...] cmake -DMANIFEST=build/install_manifest.txt -P cmake/uninstall.cmake
if(NOT MANIFEST OR NOT EXISTS "${MANIFEST}")
  message(FATAL_ERROR "uninstall: no ${MANIFEST}: nothing was installed from this build directory")
endif()
file(STRINGS "${MANIFEST}" files)
set(dirs "")
foreach(f IN LISTS files)
  set(f "$ENV{DESTDIR}${f}")
  if(EXISTS "${f}" OR IS_SYMLINK "${f}")
    message(STATUS "Removing ${f}")
    file(REMOVE "${f}")
  else()
    message(STATUS "Already gone: ${f}")
  endif()
  get_filename_component(d "${f}" DIRECTORY)
  list(APPEND dirs "${d}")
endforeach()
list(REMOVE_DUPLICATES dirs)
foreach(d IN LISTS dirs)
  get_filename_component(name "${d}" NAME)
  file(GLOB left "${d}/*" "${d}/.*")
  if(name STREQUAL "tidemalloc" AND IS_DIRECTORY "${d}" AND NOT left)
    message(STATUS "Removing ${d}/")
    file(REMOVE_RECURSE "${d}")
  endif()
endforeach()
file(REMOVE "${MANIFEST}")
