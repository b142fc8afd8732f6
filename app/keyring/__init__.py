"""The OS keyring adapter: the only place that imports `keyring`."""
