# Tests of the RELP listeners (src/collector/relp_in.c, handoff.c). Names
# contain "relp" or "handoff" so that `ctest -R 'relp|handoff'` runs them.
add_executable(test_handoff unit/test_handoff.c)
target_link_libraries(test_handoff PRIVATE lw_collector)
target_include_directories(test_handoff PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_handoff COMMAND test_handoff)

add_executable(test_relp_in unit/test_relp_in.c)
target_link_libraries(test_relp_in PRIVATE lw_collector)
target_include_directories(test_relp_in PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_relp_in COMMAND test_relp_in)
set_tests_properties(unit_relp_in PROPERTIES TIMEOUT 120)
