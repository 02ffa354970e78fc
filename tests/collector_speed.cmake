# Tests of the collector's fast path (issue 3, speed: H2): the store's
# memory of destinations, the ingest line format. Names start with
# unit_store / unit_ingest so that `ctest -R store|ingest` runs them.
add_executable(test_store_dest unit/test_store_dest.c)
target_link_libraries(test_store_dest PRIVATE lw_store)
target_include_directories(test_store_dest PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_store_dest COMMAND test_store_dest)
# The syslog parser's fast paths against the parser as it was (verbatim copy).
add_executable(test_syslog_fast unit/test_syslog_fast.c unit/syslog_msg_ref.c)
target_link_libraries(test_syslog_fast PRIVATE lw_audit)
target_include_directories(test_syslog_fast PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_syslog_fast COMMAND test_syslog_fast)
# The stored line against a reference formatter (stamps, escapes, origins).
add_executable(test_ingest unit/test_ingest.c)
target_link_libraries(test_ingest PRIVATE lw_collector)
target_include_directories(test_ingest PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME unit_ingest COMMAND test_ingest)
