# Tests of the audit regrouping in the collector (issue 3, "events are
# regrouped"): the spool and regroup units, and logwardd with the real
# audisp-remote fed interleaved events. Names contain "collector".
add_executable(test_spool unit/test_spool.c)
target_link_libraries(test_spool PRIVATE lw_collector)
target_include_directories(test_spool PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_collector_spool COMMAND test_spool)

add_test(NAME integration_collector_regroup
         COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/collector_regroup.py)
set_tests_properties(integration_collector_regroup PROPERTIES
                     ENVIRONMENT "${LW_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 900)

# The spool's read-back parser, fuzzed (tests/fuzz/README.md), its corpus replayed.
if(LW_FUZZ)
  add_executable(fuzz_audit_spool fuzz/fuzz_audit_spool.c)
  target_compile_options(fuzz_audit_spool PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_audit_spool PRIVATE -fsanitize=fuzzer)
  set(lw_spool_fuzz_args -runs=0)
else()
  add_executable(fuzz_audit_spool fuzz/fuzz_audit_spool.c fuzz/replay.c)
  set(lw_spool_fuzz_args "")
endif()
target_link_libraries(fuzz_audit_spool PRIVATE lw_collector)
target_include_directories(fuzz_audit_spool PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
add_test(NAME fuzz_replay_collector_audit_spool COMMAND fuzz_audit_spool ${lw_spool_fuzz_args}
         ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/audit_spool)
