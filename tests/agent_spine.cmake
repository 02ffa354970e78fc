# Tests of the agent's spine (H1: queue, sender, loop, config). Names start
# with unit_agent_ so that `ctest -R agent` runs them.
foreach(t agent_queue agent_backoff agent_config)
  add_executable(test_${t} unit/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE lw_agent)
  target_include_directories(test_${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
  add_test(NAME unit_${t} COMMAND test_${t})
endforeach()

# Fuzz target of the queue's segment reader (tests/fuzz/README.md): the
# corpus is a few segments made by the queue itself, with torn tails.
if(LW_FUZZ)
  add_executable(fuzz_agent_queue fuzz/fuzz_agent_queue.c)
  target_compile_options(fuzz_agent_queue PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_agent_queue PRIVATE -fsanitize=fuzzer)
  set(lw_spine_fuzz_args -runs=0)
else()
  add_executable(fuzz_agent_queue fuzz/fuzz_agent_queue.c fuzz/replay.c)
  set(lw_spine_fuzz_args "")
endif()
target_link_libraries(fuzz_agent_queue PRIVATE lw_agent)
target_include_directories(fuzz_agent_queue PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
add_test(NAME fuzz_replay_agent_queue
         COMMAND fuzz_agent_queue ${lw_spine_fuzz_args}
                 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/agent_queue
                 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regress/agent_queue)

# The spine against real collectors: failover, SIGHUP, the queue's bound
# under both policies, the command line (tests/integration/agent_spine.py).
add_test(NAME integration_agent_spine
         COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_spine.py)
set_tests_properties(integration_agent_spine PROPERTIES
                     ENVIRONMENT "${LW_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 900)
