# Every dependency comes from a Debian 12 package (packaging/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(ZLIB REQUIRED)
# SQLite3, spdlog and yaml-cpp are for the daemons (hub/, agent/, link/): found here so a
# missing package fails at configure time, linked only by the libraries that use them.
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(GTest REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(ISAL REQUIRED IMPORTED_TARGET libisal)
# Zydis: the reference x86-64 decoder delta_elf_test checks the ELF_REF method's own decoder against
# (delta/x86_decode_test.cc); the delta library does not link it.
find_package(zydis 4 REQUIRED)

find_library(RSYNC_LIBRARY rsync REQUIRED)
find_path(RSYNC_INCLUDE_DIR librsync.h REQUIRED)
add_library(outpost_dep_rsync INTERFACE)
target_link_libraries(outpost_dep_rsync INTERFACE ${RSYNC_LIBRARY})
target_include_directories(outpost_dep_rsync INTERFACE ${RSYNC_INCLUDE_DIR})


# Howard Hinnant's date/tz (Debian's libhowardhinnant-date-dev) for the sync windows' IANA
# timezones. Debian builds libdate-tz against the system tzdata (/usr/share/zoneinfo), so every
# includer must see USE_OS_TZDB=1 (its dateConfig.cmake says the same; without it tz.h declares
# a different time_zone layout than the library has). HAS_STRING_VIEW and ONLY_C_LOCALE match
# the library's build too.
find_library(DATE_TZ_LIBRARY date-tz REQUIRED)
find_path(DATE_TZ_INCLUDE_DIR date/tz.h REQUIRED)
add_library(outpost_dep_date_tz INTERFACE)
target_link_libraries(outpost_dep_date_tz INTERFACE ${DATE_TZ_LIBRARY} Threads::Threads)
target_include_directories(outpost_dep_date_tz INTERFACE ${DATE_TZ_INCLUDE_DIR})
target_compile_definitions(outpost_dep_date_tz INTERFACE USE_OS_TZDB=1 HAS_STRING_VIEW=1 ONLY_C_LOCALE=1)
