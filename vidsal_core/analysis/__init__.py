"""Analysis: statistics with confidence intervals, relevance shares and fits, metrics."""
