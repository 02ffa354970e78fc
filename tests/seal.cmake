# Tests of sealing (issue 4) beyond the unit test (registered in store.cmake):
# the tamper campaign and the kill -9 loop, both against a real logwardd.
lw_integration(seal_campaign integration/seal_campaign.py)
lw_integration(store_killloop integration/store_killloop.py)
lw_integration(store_append_only integration/store_append_only.py)
