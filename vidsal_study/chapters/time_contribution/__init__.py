"""The time contribution chapter (notebooks/time_contribution.ipynb): its study, findings and figures."""
