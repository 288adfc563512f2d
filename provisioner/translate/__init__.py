"""Pure functions from Kubernetes objects to the cloud-neutral model.

Nothing here performs I/O or reads a clock: given the same objects, translation gives the
same model, which is what makes reconciles level-triggered and plans reproducible.
"""
