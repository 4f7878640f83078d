"""The vanishing-saliency chapter (notebooks/vanishing_saliency.ipynb): its study, findings and figures."""
