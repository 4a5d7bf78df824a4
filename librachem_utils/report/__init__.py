"""Report (notebook 06): figures and tables, drawn from saved results only. May import every stage
above it.
"""
