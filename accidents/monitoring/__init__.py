"""Monitoring: drift and performance reports (Evidently 0.7), batch sources, the retrain decision."""
