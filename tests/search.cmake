# Tests of logward search, report and index (src/search, issue 5). Names
# start with unit_search / unit_report / integration_search_ /
# integration_report_ / fuzz_replay_search_ so `ctest -R 'search|report'`
# runs them all. (unit_search and integration_search_equivalence are
# registered in unit/ and integration/ from part 1.)
add_executable(test_report unit/test_report.c)
target_link_libraries(test_report PRIVATE lw_search)
target_include_directories(test_report PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_report COMMAND test_report)
add_executable(test_search_pool unit/test_search_pool.c)
target_link_libraries(test_search_pool PRIVATE lw_search)
target_include_directories(test_search_pool PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_search_pool COMMAND test_search_pool)

foreach(t report_equivalence report_threads)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.py)
    add_test(NAME integration_${t}
             COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.py)
    set_tests_properties(integration_${t} PROPERTIES
                         ENVIRONMENT "${LW_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 900)
  endif()
endforeach()

# The index reader's and the syslog line parsers' fuzz targets, replayed
# from their corpora in every build (as tests/fuzz/CMakeLists.txt does).
foreach(t search_index search_lines)
  if(LW_FUZZ)
    add_executable(fuzz_${t} fuzz/fuzz_${t}.c)
    target_compile_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    set(lw_search_fuzz_args -runs=0)
  else()
    add_executable(fuzz_${t} fuzz/fuzz_${t}.c fuzz/replay.c)
    set(lw_search_fuzz_args "")
  endif()
  target_link_libraries(fuzz_${t} PRIVATE lw_search)
  set(dirs ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${t})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regress/${t})
    list(APPEND dirs ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regress/${t})
  endif()
  add_test(NAME fuzz_replay_${t} COMMAND fuzz_${t} ${lw_search_fuzz_args} ${dirs})
endforeach()

foreach(t search_index search_syslog search_order)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.py)
    add_test(NAME integration_${t}
             COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.py)
    set_tests_properties(integration_${t} PROPERTIES
                         ENVIRONMENT "${LW_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 900)
  endif()
endforeach()
