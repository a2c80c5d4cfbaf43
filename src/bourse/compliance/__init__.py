"""Compliance: who the customers are, which countries may do what, and which venue serves whom.

The modules here are pure (no clock, no I/O): the engine's gate and the admin gateway share them,
so a rule is written once and a preview computes exactly what an apply will enforce. Two parts
run beside the engine and are never imported by it: `sanctions/` (list loaders, the matcher and
the list versions kept in the data directory) and `staff.py` (staff tokens in the data directory).
"""
