"""SIP adapter: the only package that imports pjsua2 (see `app.sip.engine`)."""
