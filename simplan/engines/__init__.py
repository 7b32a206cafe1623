"""Engines move simulated time forward; events.py is the SimPy reference engine."""
