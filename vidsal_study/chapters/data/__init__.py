"""The data chapter (notebooks/data.ipynb): its study, findings and figures."""
