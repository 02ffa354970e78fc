# The agent's inputs (H2): audit:PATH, audit:-, file:PATTERN, journal[:PATH].
# lw_agent is made by spine.cmake, included before this file. The sources are
# also kept in a global property so tests/agent_inputs.cmake can build them
# against a fake queue without the spine.
set(LW_AGENT_INPUT_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/input.c
  ${CMAKE_CURRENT_LIST_DIR}/follow.c
  ${CMAKE_CURRENT_LIST_DIR}/input_files.c
  ${CMAKE_CURRENT_LIST_DIR}/input_stdin.c
  ${CMAKE_CURRENT_LIST_DIR}/input_journal.c)
pkg_check_modules(LW_SYSTEMD IMPORTED_TARGET GLOBAL libsystemd)
set_property(GLOBAL PROPERTY LW_AGENT_INPUT_SOURCES ${LW_AGENT_INPUT_SOURCES})
if(TARGET lw_agent)
  target_sources(lw_agent PRIVATE ${LW_AGENT_INPUT_SOURCES})
  target_link_libraries(lw_agent PUBLIC lw_base)
  if(LW_SYSTEMD_FOUND)
    target_compile_definitions(lw_agent PRIVATE LW_HAVE_SYSTEMD=1)
    target_link_libraries(lw_agent PUBLIC PkgConfig::LW_SYSTEMD)
  endif()
endif()
