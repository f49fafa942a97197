"""Foresight's Temporal Fusion Transformer: training, export and the model contract."""
