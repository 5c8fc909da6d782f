"""The vectorized analytical model: operator pricing, step time, metrics, calibration."""
