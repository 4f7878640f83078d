"""The evaluation chapter (notebooks/evaluation.ipynb): its study, findings and figures."""
