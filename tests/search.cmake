# Tests of logward search, report and index (src/search, issue 5). Names
# start with unit_search / unit_report / integration_search_ /
# integration_report_ / fuzz_replay_search_ so `ctest -R 'search|report'`
# runs them all. (unit_search and integration_search_equivalence are
# registered in unit/ and integration/ from part 1.)
add_executable(test_report unit/test_report.c)
target_link_libraries(test_report PRIVATE lw_search)
target_include_directories(test_report PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_report COMMAND test_report)

foreach(t report_equivalence)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.py)
    add_test(NAME integration_${t}
             COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.py)
    set_tests_properties(integration_${t} PROPERTIES
                         ENVIRONMENT "${LW_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 900)
  endif()
endforeach()
