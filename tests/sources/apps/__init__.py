"""Small source systems the connector tests talk to, in process or over loopback."""
