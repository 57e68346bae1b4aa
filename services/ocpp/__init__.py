"""OCPP 1.6J central-system logic: everything the OCPP server writes or reads goes through here.

The server (`ocpp_server/`) parses frames and calls these keyword-only functions in a worker thread;
they take a Session, do their work in the caller's transaction and return plain data.
"""
