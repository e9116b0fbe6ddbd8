# Helpers that give every folder the same shape: one library, tests beside the code.

set(OUTPOST_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
if(OUTPOST_WERROR)
  list(APPEND OUTPOST_WARNINGS -Werror)
endif()

# OUTPOST_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer on outpost's own targets
# (outpost_library, outpost_test, outpost_executable), not on whatever else a build adds.
set(OUTPOST_SANITIZE_COMPILE "")
set(OUTPOST_SANITIZE_LINK "")
if(OUTPOST_SANITIZE)
  set(OUTPOST_SANITIZE_COMPILE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  set(OUTPOST_SANITIZE_LINK -fsanitize=address,undefined)
endif()

# The compile and link options every outpost target gets.
function(outpost_target_options target)
  target_compile_options(${target} PRIVATE ${OUTPOST_WARNINGS} ${OUTPOST_SANITIZE_COMPILE})
  target_link_options(${target} PRIVATE ${OUTPOST_SANITIZE_LINK})
endfunction()

# The include root that shows the current top-level folder's headers, as "folder/file.h", and
# nothing else: ${PROJECT_BINARY_DIR}/include/FOLDER/FOLDER links to the folder. A library
# exports its folder's root, so a folder sees the headers of the libraries it links and no others
# (the finer table of what may include what is tests/layering/check_layering.py's).
function(outpost_folder_include_root out_var)
  file(RELATIVE_PATH relative ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  string(REGEX REPLACE "/.*" "" folder "${relative}")
  set(root ${PROJECT_BINARY_DIR}/include/${folder})
  if(NOT EXISTS ${root}/${folder})
    file(MAKE_DIRECTORY ${root})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${folder} ${root}/${folder} SYMBOLIC)
  endif()
  set(${out_var} ${root} PARENT_SCOPE)
endfunction()

# outpost_library(NAME SOURCES a.cc b.cc DEPS lib... [PRIVATE_DEPS lib...])
# Builds static library outpost_NAME from the current folder's sources. DEPS are the libraries
# its public headers need (linked PUBLIC, so their headers reach the dependants too);
# PRIVATE_DEPS those only its .cc files use. Its headers are included as "folder/file.h".
function(outpost_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(outpost_${name} STATIC ${ARG_SOURCES})
  outpost_folder_include_root(root)
  target_include_directories(outpost_${name} PUBLIC ${root})
  outpost_target_options(outpost_${name})
  target_link_libraries(outpost_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# outpost_executable(NAME SOURCES a.cc DEPS lib...): a program (the CLI, a benchmark).
function(outpost_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  outpost_folder_include_root(root)
  target_include_directories(${name} PRIVATE ${root})
  outpost_target_options(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# `unit_tests` builds what `ctest -L unit` runs and nothing more (CI's sanitizer build builds
# only that); outpost_test adds the binaries labelled unit to it.
add_custom_target(unit_tests)

# outpost_test(NAME SOURCES x_test.cc DEPS lib... [LABELS l...])
# A GoogleTest binary whose tests ctest discovers one by one (so `ctest -j` runs them in parallel).
function(outpost_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  outpost_target_options(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} outpost_testing GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
      OUTPOST_SOURCE_DIR="${PROJECT_SOURCE_DIR}" OUTPOST_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${labels}" DISCOVERY_TIMEOUT 60)
  if("unit" IN_LIST labels)
    add_dependencies(unit_tests ${name})
  endif()
endfunction()

include(GoogleTest)
