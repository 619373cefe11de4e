"""Supervision (网上监督): warnings on the working-day clock, supervisory orders, ratings (好差评),
figures kept in rollups, live dashboards and open data. See docs/supervision.md."""
