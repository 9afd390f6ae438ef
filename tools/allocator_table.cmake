# Turns tools/allocators.tsv, the allocator list tide and bench/ share, into
# the C header tide compiles it from:
#
#   cmake -DIN=allocators.tsv -DOUT=allocator_table.h -P allocator_table.cmake
#
# Run by the build (tools/CMakeLists.txt) whenever the list changes, so the
# C side cannot go stale; bench/tidebench/allocators.py reads the list
# itself. CMake only: nothing else is needed to build.
if(NOT IN OR NOT OUT)
  message(FATAL_ERROR "allocator_table.cmake: pass -DIN=<list> -DOUT=<header>")
endif()

file(STRINGS "${IN}" lines)
set(rows "")
set(most_sonames 1)
set(lineno 0)
foreach(line IN LISTS lines)
  math(EXPR lineno "${lineno} + 1")
  if(line MATCHES "^[ \t]*(#.*)?$")
    continue()
  endif()
  # Every field goes into a C string literal as it is: refuse what would
  # need escaping rather than escape it.
  if(NOT line MATCHES "^[A-Za-z0-9_.,+ \t-]+$")
    message(FATAL_ERROR "${IN}:${lineno}: a character a name cannot hold: ${line}")
  endif()
  string(STRIP "${line}" line)
  string(REGEX REPLACE "[ \t]+" ";" fields "${line}")
  list(LENGTH fields nfields)
  if(NOT nfields EQUAL 4)
    message(FATAL_ERROR "${IN}:${lineno}: want 4 columns (name family package sonames), "
                        "found ${nfields}: ${line}")
  endif()
  list(GET fields 0 name)
  list(GET fields 1 family)
  list(GET fields 2 package)
  list(GET fields 3 sonames)
  if(package STREQUAL "-")
    set(package_c "NULL")
  else()
    set(package_c "\"${package}\"")
  endif()
  set(sonames_c "")
  if(NOT sonames STREQUAL "-")
    string(REPLACE "," ";" soname_list "${sonames}")
    list(LENGTH soname_list nsonames)
    if(nsonames GREATER most_sonames)
      set(most_sonames ${nsonames})
    endif()
    foreach(soname IN LISTS soname_list)
      string(APPEND sonames_c "\"${soname}\", ")
    endforeach()
  endif()
  string(APPEND rows "    X(\"${name}\", \"${family}\", ${package_c}, ${sonames_c}NULL) \\\n")
endforeach()
math(EXPR sonames_max "${most_sonames} + 1")

set(header "/* Generated from tools/allocators.tsv by tools/allocator_table.cmake:
 * edit the list, not this file. */
#ifndef TIDE_ALLOCATOR_TABLE_H
#define TIDE_ALLOCATOR_TABLE_H

/* Room for the most sonames a row lists, and the NULL that ends each. */
#define TIDE_ALLOCATOR_SONAMES_MAX ${sonames_max}

/* X(name, family, package or NULL, soname..., NULL), in the list's order. */
#define TIDE_ALLOCATOR_TABLE(X) \\
${rows}
#endif
")

file(WRITE "${OUT}" "${header}")
