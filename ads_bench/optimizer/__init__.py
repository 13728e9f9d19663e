"""The ADS optimizer trainer: trajectory sampling, held-out rewards, cost-tier selection, SFT, DPO."""
