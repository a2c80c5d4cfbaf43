"""The running exchange: one process owning a data directory, recovering, sequencing, projecting."""
