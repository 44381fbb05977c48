# One helper per target kind keeps the per-directory CMake files short.

set(EDGETUNE_WARNINGS -Wall -Wextra -Wno-unused-parameter)

# edgetune_add_library(NAME SOURCES ... [LIBS ...])
function(edgetune_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${EDGETUNE_WARNINGS})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}")
  target_link_libraries(${name} PUBLIC ${ARG_LIBS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# edgetune_add_layer(NAME FOLDER LIBS ...): one layer of core (core/FOLDER/*.cpp) as a static library. Its
# include path is a folder holding only core/FOLDER (a symlink under the build tree), and it sees the layers
# below it only through LIBS: an include of a header from a layer above it, or from one it does not link, fails
# to compile ("core/<layer>/x.h: No such file or directory"). That is how the build enforces the layering.
function(edgetune_add_layer name)
  cmake_parse_arguments(ARG "" "FOLDER" "LIBS;EXCLUDE_REGEX" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/core/${ARG_FOLDER}/*.cpp")
  if(ARG_EXCLUDE_REGEX)
    list(FILTER sources EXCLUDE REGEX "${ARG_EXCLUDE_REGEX}")
  endif()
  set(include_root "${PROJECT_BINARY_DIR}/layers/${ARG_FOLDER}")
  file(MAKE_DIRECTORY "${include_root}/core")
  file(CREATE_LINK "${PROJECT_SOURCE_DIR}/core/${ARG_FOLDER}" "${include_root}/core/${ARG_FOLDER}" SYMBOLIC)
  add_library(${name} STATIC ${sources})
  target_compile_options(${name} PRIVATE ${EDGETUNE_WARNINGS})
  target_include_directories(${name} PUBLIC "${include_root}")
  target_link_libraries(${name} PUBLIC ${ARG_LIBS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# edgetune_add_executable(NAME SOURCES ... [LIBS ...])
function(edgetune_add_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${EDGETUNE_WARNINGS})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/bin")
endfunction()

# edgetune_add_test(NAME SOURCES ... [LIBS ...] [LABELS ...] [NO_KEYWORDS])
# A Qt Test executable registered with CTest; it finds fixtures through EDGETUNE_TEST_DATA.
function(edgetune_add_test name)
  cmake_parse_arguments(ARG "NO_KEYWORDS" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${EDGETUNE_WARNINGS})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}")
  target_link_libraries(${name} PRIVATE Qt6::Test ${ARG_LIBS})
  target_compile_definitions(${name} PRIVATE
    EDGETUNE_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/fixtures"
    EDGETUNE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    EDGETUNE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(ARG_NO_KEYWORDS)
    # torch headers use the names Qt's keyword macros take.
    target_compile_definitions(${name} PRIVATE QT_NO_KEYWORDS)
  endif()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
  add_test(NAME ${name} COMMAND ${name})
  # A hung test fails after 15 minutes (the slowest takes well under one) instead of holding CI until its limit;
  # Qt Test's crash and time-out stack dumps run gdb, which must not wait on a debuginfod server.
  # A suite that skipped everything (no root for sshd, no libtorch...) shows as skipped, not passed: Qt Test
  # exits 0 then, and its totals line is the one sign.
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen;DEBUGINFOD_URLS="
                                          LABELS "${ARG_LABELS}" TIMEOUT 900
                                          SKIP_REGULAR_EXPRESSION "Totals: 0 passed, 0 failed, [1-9]")
endfunction()

# edgetune_add_plugin(NAME SOURCES ... [LIBS ...]): a shared module loaded at run time.
function(edgetune_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${EDGETUNE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  set_target_properties(${name} PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/plugins")
endfunction()
