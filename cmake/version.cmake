# The release number lives in include/tidemalloc.h only (the header is what
# a program compiles against, so it cannot be generated without breaking
# builds that use include/ straight from the tree). Read before project():
#   TIDE_VERSION    "0.1.0", from #define TIDE_VERSION
# and refuse a header whose string and MAJOR/MINOR/PATCH numbers disagree,
# so the two spellings can never drift apart.
set(_tide_header ${CMAKE_CURRENT_LIST_DIR}/../include/tidemalloc.h)
file(STRINGS ${_tide_header} _tide_lines REGEX "^#define TIDE_VERSION(_[A-Z]+)? ")
# _tide_define(REGEX OUT): the capture of the header line matching REGEX,
# or "" when there is none.
function(_tide_define regex out)
  set(value "")
  foreach(line IN LISTS _tide_lines)
    if(line MATCHES "${regex}")
      set(value ${CMAKE_MATCH_1})
    endif()
  endforeach()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

set(_tide_numbers "")
foreach(part MAJOR MINOR PATCH)
  _tide_define("^#define TIDE_VERSION_${part} +([0-9]+)$" _n)
  if(_n STREQUAL "")
    message(FATAL_ERROR "${_tide_header}: no '#define TIDE_VERSION_${part} N'")
  endif()
  list(APPEND _tide_numbers ${_n})
endforeach()
list(JOIN _tide_numbers "." _tide_joined)
_tide_define("^#define TIDE_VERSION +\"([^\"]+)\"$" TIDE_VERSION)
if(NOT TIDE_VERSION STREQUAL _tide_joined)
  message(FATAL_ERROR "${_tide_header}: TIDE_VERSION \"${TIDE_VERSION}\" is not "
                      "TIDE_VERSION_MAJOR.MINOR.PATCH (${_tide_joined})")
endif()
unset(_tide_header)
unset(_tide_lines)
unset(_tide_numbers)
unset(_tide_joined)
unset(_n)
