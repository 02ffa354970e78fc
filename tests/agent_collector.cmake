# Tests of the collector side of the agent protocol (issue 6): the lwap/1
# framer (src/wire/agent_frame.c), the per-stream state and its recovery
# (src/collector/agent_state.c), and logwardd serving agent:// and
# agent+tls://. Names contain "agent" so that `ctest -R agent` runs them.
add_executable(test_agent_frame unit/test_agent_frame.c)
target_link_libraries(test_agent_frame PRIVATE lw_wire)
target_include_directories(test_agent_frame PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_agent_frame COMMAND test_agent_frame)

# The fuzz target, built and replayed as tests/fuzz/CMakeLists.txt does.
if(LW_FUZZ)
  add_executable(fuzz_agent_frame fuzz/fuzz_agent_frame.c)
  target_compile_options(fuzz_agent_frame PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_agent_frame PRIVATE -fsanitize=fuzzer)
  set(lw_agent_fuzz_args -runs=0)
else()
  add_executable(fuzz_agent_frame fuzz/fuzz_agent_frame.c fuzz/replay.c)
  set(lw_agent_fuzz_args "")
endif()
target_link_libraries(fuzz_agent_frame PRIVATE lw_wire)
target_include_directories(fuzz_agent_frame PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(lw_agent_fuzz_dirs ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/agent_frame)
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regress/agent_frame)
  list(APPEND lw_agent_fuzz_dirs ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regress/agent_frame)
endif()
add_test(NAME fuzz_replay_agent_frame COMMAND fuzz_agent_frame ${lw_agent_fuzz_args}
         ${lw_agent_fuzz_dirs})

add_executable(test_agent_state unit/test_agent_state.c)
target_link_libraries(test_agent_state PRIVATE lw_collector)
target_include_directories(test_agent_state PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_agent_state COMMAND test_agent_state)

# The scenario (tests/integration/collector_agent.py), registered as
# lw_integration does (that function resolves scripts in its own folder).
add_test(NAME integration_collector_agent
         COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/collector_agent.py)
set_tests_properties(integration_collector_agent PROPERTIES
                     ENVIRONMENT "${LW_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 900)
