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

# The index reader's fuzz target, replayed from its corpus in every build
# (as tests/fuzz/CMakeLists.txt does for the others).
if(LW_FUZZ)
  add_executable(fuzz_search_index fuzz/fuzz_search_index.c)
  target_compile_options(fuzz_search_index PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_search_index PRIVATE -fsanitize=fuzzer)
  set(lw_search_fuzz_args -runs=0)
else()
  add_executable(fuzz_search_index fuzz/fuzz_search_index.c fuzz/replay.c)
  set(lw_search_fuzz_args "")
endif()
target_link_libraries(fuzz_search_index PRIVATE lw_search)
add_test(NAME fuzz_replay_search_index
         COMMAND fuzz_search_index ${lw_search_fuzz_args}
                 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/search_index
                 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regress/search_index)

foreach(t search_index)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.py)
    add_test(NAME integration_${t}
             COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.py)
    set_tests_properties(integration_${t} PROPERTIES
                         ENVIRONMENT "${LW_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 900)
  endif()
endforeach()
