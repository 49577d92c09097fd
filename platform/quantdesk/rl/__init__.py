"""Reinforcement learning: a NumPy portfolio environment, SB3 agents and a validated ensemble."""
