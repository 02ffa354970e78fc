# The agent's spine (H1): the disk queue, the sender, the loop, config and
# status. Creates lw_agent; the inputs add their sources in inputs.cmake.
pkg_check_modules(LW_ZLIB REQUIRED IMPORTED_TARGET zlib)
add_library(lw_agent STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/queue_entry.c
  ${CMAKE_CURRENT_SOURCE_DIR}/queue.c)
target_link_libraries(lw_agent PUBLIC lw_net lw_base PRIVATE PkgConfig::LW_ZLIB)
