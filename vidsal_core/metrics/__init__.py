"""Metrics of saliency maps: localisation, faithfulness, randomisation, relevance shares and fits, temporal shares,
agreement of per-frame curves with the truth, and the flat-frame rule for comparing two maps."""
