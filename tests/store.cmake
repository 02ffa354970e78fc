# Tests of the store (src/store, issue 3 part 2). Names start with unit_store
# so that `ctest -R store` runs them.
add_executable(test_store unit/test_store.c)
target_link_libraries(test_store PRIVATE lw_store)
target_include_directories(test_store PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_store COMMAND test_store)
add_executable(test_store_retention unit/test_store_retention.c)
target_link_libraries(test_store_retention PRIVATE lw_store PkgConfig::LW_STORE_ZSTD)
target_include_directories(test_store_retention PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_store_retention COMMAND test_store_retention)
add_executable(test_seal unit/test_seal.c)
target_link_libraries(test_seal PRIVATE lw_store)
target_include_directories(test_seal PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_store_seal COMMAND test_seal)
