# Tests of `logward rules` and `logward check` (src/rules, issue 7). Every test
# name starts with rules_ so that `ctest -R rules` runs them all.
set(LW_RULES_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/rules)

foreach(t rule_parse rule_cover)
  add_executable(test_${t} ${LW_RULES_TESTS}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE lw_rules)
  target_include_directories(test_${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
endforeach()
add_test(NAME rules_unit_parse COMMAND test_rule_parse ${LW_RULES_TESTS}/parse_cases.txt)
add_test(NAME rules_unit_cover COMMAND test_rule_cover)

# rule_dump: prints what our parser makes of each line, for the scripts.
add_executable(rule_dump ${LW_RULES_TESTS}/rule_dump.c)
target_link_libraries(rule_dump PRIVATE lw_rules)

set(LW_RULES_ENV "${LW_TEST_ENV};LW_RULE_DUMP=$<TARGET_FILE:rule_dump>")
add_test(NAME rules_output COMMAND python3 ${LW_RULES_TESTS}/check_rules_output.py)
add_test(NAME rules_guideline COMMAND python3 ${LW_RULES_TESTS}/check_guideline.py)
add_test(NAME rules_debian_examples COMMAND python3 ${LW_RULES_TESTS}/check_debian_examples.py)
add_test(NAME rules_host_check COMMAND python3 ${LW_RULES_TESTS}/check_host.py)
add_test(NAME rules_auditctl_load COMMAND ${LW_RULES_TESTS}/auditctl_load.sh)
set_tests_properties(rules_output rules_guideline rules_debian_examples rules_host_check
                     rules_auditctl_load PROPERTIES ENVIRONMENT "${LW_RULES_ENV}" TIMEOUT 120
                     SKIP_RETURN_CODE 77)
set_tests_properties(rules_auditctl_load PROPERTIES RUN_SERIAL TRUE)
