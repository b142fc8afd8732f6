"""Data package: the shipped policy pack (default.toml) and the region-name table."""
