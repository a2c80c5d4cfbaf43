"""API keys: creating them (the command and the secret shown once) and sealing secrets at rest."""
