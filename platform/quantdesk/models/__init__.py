"""CNN+LSTM hybrid models, baselines, walk-forward training, calibration and the registry.

Submodules that need torch, sklearn or mlflow import them at module level; nothing here is
imported by the CLI until a model command runs.
"""
