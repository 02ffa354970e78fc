# Tests of the store (src/store, issue 3 part 2). Names start with unit_store
# so that `ctest -R store` runs them.
add_executable(test_store unit/test_store.c)
target_link_libraries(test_store PRIVATE lw_store)
target_include_directories(test_store PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_store COMMAND test_store)
