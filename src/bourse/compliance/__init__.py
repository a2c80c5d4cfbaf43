"""Compliance: who the customers are, which countries may do what, and which venue serves whom.

The modules here are pure (no clock, no I/O): the engine's gate and the admin gateway share them,
so a rule is written once and a preview computes exactly what an apply will enforce.
"""
