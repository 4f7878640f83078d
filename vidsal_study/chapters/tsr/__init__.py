"""The tsr chapter (notebooks/tsr.ipynb): its study, findings and figures."""
