"""The summary chapter (notebooks/summary.ipynb): its study, findings and figures."""
