"""The models chapter (notebooks/models.ipynb): its study, findings and figures."""
