# Tests of the agent's inputs (H2): src/agent/input*.c and follow.c built
# against an in-memory fake of the queue (unit/agent_queue_fake.c). Names
# start with unit_agent_ / fuzz_replay_agent_ so `ctest -R agent` runs them.
get_property(lw_agent_input_sources GLOBAL PROPERTY LW_AGENT_INPUT_SOURCES)
if(lw_agent_input_sources)
  add_library(lw_agent_inputs_fake STATIC ${lw_agent_input_sources} unit/agent_queue_fake.c)
  target_link_libraries(lw_agent_inputs_fake PUBLIC lw_base)
  target_include_directories(lw_agent_inputs_fake PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/unit)
  if(TARGET PkgConfig::LW_SYSTEMD)
    target_compile_definitions(lw_agent_inputs_fake PRIVATE LW_HAVE_SYSTEMD=1)
    target_link_libraries(lw_agent_inputs_fake PUBLIC PkgConfig::LW_SYSTEMD)
  endif()
  foreach(t follow input stdin journal)
    add_executable(test_agent_${t} unit/test_agent_${t}.c)
    target_link_libraries(test_agent_${t} PRIVATE lw_agent_inputs_fake)
    add_test(NAME unit_agent_${t} COMMAND test_agent_${t})
    set_tests_properties(unit_agent_${t} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
  endforeach()
endif()

# Fuzz target of the file input (tests/fuzz/README.md), over the fake queue.
if(lw_agent_input_sources)
  if(LW_FUZZ)
    add_executable(fuzz_agent_follow fuzz/fuzz_agent_follow.c)
    target_compile_options(fuzz_agent_follow PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_agent_follow PRIVATE -fsanitize=fuzzer)
    set(lw_inputs_fuzz_args -runs=0)
  else()
    add_executable(fuzz_agent_follow fuzz/fuzz_agent_follow.c fuzz/replay.c)
    set(lw_inputs_fuzz_args "")
  endif()
  target_link_libraries(fuzz_agent_follow PRIVATE lw_agent_inputs_fake)
  target_include_directories(fuzz_agent_follow PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
  add_test(NAME fuzz_replay_agent_follow
           COMMAND fuzz_agent_follow ${lw_inputs_fuzz_args}
                   ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/agent_follow)
endif()

# One case against the real disk queue (H1's queue.c in lw_agent).
if(TARGET lw_agent AND lw_agent_input_sources)
  add_executable(test_agent_inputs_queue unit/test_agent_inputs_queue.c)
  target_link_libraries(test_agent_inputs_queue PRIVATE lw_agent)
  target_include_directories(test_agent_inputs_queue PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
  add_test(NAME unit_agent_inputs_queue COMMAND test_agent_inputs_queue)
endif()

# End to end: logward-agent's file and plugin inputs into logwardd.
if(COMMAND lw_integration)
  lw_integration(agent_inputs integration/agent_inputs.py)
endif()
