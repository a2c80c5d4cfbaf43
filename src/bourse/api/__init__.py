"""The gateway: turns requests into commands. It never changes state itself."""
