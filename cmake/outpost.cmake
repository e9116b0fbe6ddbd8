# Helpers that give every folder the same shape: one library, tests beside the code.

set(OUTPOST_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
if(OUTPOST_WERROR)
  list(APPEND OUTPOST_WARNINGS -Werror)
endif()

if(OUTPOST_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# outpost_library(NAME SOURCES a.cc b.cc DEPS lib...)
# Builds static library outpost_NAME from the folder's sources; public headers are included as
# "folder/file.h" from the repository root.
function(outpost_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(outpost_${name} STATIC ${ARG_SOURCES})
  target_include_directories(outpost_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(outpost_${name} PRIVATE ${OUTPOST_WARNINGS})
  target_link_libraries(outpost_${name} PUBLIC ${ARG_DEPS})
endfunction()

# outpost_test(NAME SOURCES x_test.cc DEPS lib... [LABELS l...])
# A GoogleTest binary whose tests ctest discovers one by one (so `ctest -j` runs them in parallel).
function(outpost_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${OUTPOST_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} outpost_testing GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
      OUTPOST_SOURCE_DIR="${PROJECT_SOURCE_DIR}" OUTPOST_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${labels}" DISCOVERY_TIMEOUT 60)
endfunction()

include(GoogleTest)
