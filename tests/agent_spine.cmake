# Tests of the agent's spine (H1: queue, sender, loop, config). Names start
# with unit_agent_ so that `ctest -R agent` runs them.
foreach(t agent_queue)
  add_executable(test_${t} unit/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE lw_agent)
  target_include_directories(test_${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
  add_test(NAME unit_${t} COMMAND test_${t})
endforeach()
