# End-to-end scenarios of logward-agent with logwardd (issue 6): the no-loss
# run through crashes and cuts, mutual TLS, the journal input.
lw_integration(agent_noloss integration/agent_noloss.py)
lw_integration(agent_tls integration/agent_tls.py)
lw_integration(agent_journal integration/agent_journal.py)
