# The agent's spine (H1): the disk queue, the sender, the loop, config and
# status. Creates lw_agent; the inputs add their sources in inputs.cmake.
pkg_check_modules(LW_ZLIB REQUIRED IMPORTED_TARGET zlib)
add_library(lw_agent STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/queue_entry.c
  ${CMAKE_CURRENT_SOURCE_DIR}/queue.c
  ${CMAKE_CURRENT_SOURCE_DIR}/collector_url.c
  ${CMAKE_CURRENT_SOURCE_DIR}/config.c
  ${CMAKE_CURRENT_SOURCE_DIR}/backoff.c
  ${CMAKE_CURRENT_SOURCE_DIR}/sender.c
  ${CMAKE_CURRENT_SOURCE_DIR}/status.c
  ${CMAKE_CURRENT_SOURCE_DIR}/notify.c
  ${CMAKE_CURRENT_SOURCE_DIR}/agent.c)
target_link_libraries(lw_agent PUBLIC lw_net lw_wire lw_base PRIVATE PkgConfig::LW_ZLIB)
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/main.c PROPERTIES
                            COMPILE_DEFINITIONS LW_VERSION="${PROJECT_VERSION}")
# logward-agent sits beside logward and logwardd (build/*/src/), where the
# integration tests look for it (LW_BIN); the target is made after this file.
cmake_language(DEFER CALL set_target_properties logward-agent PROPERTIES
               RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/src)
