"""How it is split: scenarios, parallelism (TP/PP/EP/DP), per-chip memory fit."""
