"""Monitoring: what careline measures of itself (counts and timings, never content), the
health of each part it depends on, the live dashboard and the alerts raised from them."""
